"""Rate-limit counters live in Redis wherever it answers, so that gunicorn's workers share one count; without
Redis they fall back to memory and the log says so. The test suite itself counts in memory (config/testing.py:
parallel runs share this machine's Redis). These tests use the real local Redis, with a key prefix of their own
that they delete afterwards."""
import logging
import time
import uuid

import pytest
from flask import Flask
from flask_limiter import Limiter

from lms.core.ratelimit import MEMORY, choose_storage, redis_answers

DEFAULT_URI = "redis://127.0.0.1:6379/0"
DEAD_URI = "redis://127.0.0.1:1/0"  # nothing listens on port 1

needs_redis = pytest.mark.skipif(not redis_answers(DEFAULT_URI), reason="no Redis answers at 127.0.0.1:6379")


def configured_app(**overrides) -> Flask:
    """A bare Flask app with the project's default settings (what the demo and production start from)."""
    app = Flask(f"ratelimit-{uuid.uuid4().hex[:6]}")
    app.config.from_object("config.default")
    app.config.update(overrides)
    return app


@needs_redis
def test_rate_limits_count_in_redis_when_redis_answers():
    app = configured_app()
    assert choose_storage(app) == DEFAULT_URI
    assert app.config["RATELIMIT_STORAGE_URI"] == DEFAULT_URI


def test_rate_limits_fall_back_to_memory_and_say_so_once_when_redis_is_absent(caplog):
    app = configured_app(RATELIMIT_STORAGE_URI=DEAD_URI)
    started = time.monotonic()
    with caplog.at_level(logging.WARNING):
        assert choose_storage(app) == MEMORY
    assert time.monotonic() - started < 2  # a newcomer's start-up is not held up
    assert app.config["RATELIMIT_STORAGE_URI"] == MEMORY
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING and "Rate limits" in r.getMessage()]
    assert len(warnings) == 1 and "127.0.0.1:1" in warnings[0].getMessage()


def test_the_test_suite_counts_in_memory(app):
    assert app.config["RATELIMIT_STORAGE_URI"] == MEMORY


@pytest.fixture()
def key_prefix():
    """A prefix of this run's own; its keys are deleted afterwards."""
    import redis
    prefix = f"lms-pytest-{uuid.uuid4().hex}"
    yield prefix
    client = redis.Redis.from_url(DEFAULT_URI)
    try:
        keys = list(client.scan_iter(match=f"*{prefix}*"))
        if keys:
            client.delete(*keys)
    finally:
        client.close()


def worker(key_prefix: str) -> Flask:
    """One gunicorn worker: its own Flask app and its own Limiter (as each process has), on the storage the
    project's configuration chooses, with a route allowed three times a minute."""
    app = configured_app(RATELIMIT_KEY_PREFIX=key_prefix)
    choose_storage(app)
    limiter = Limiter(key_func=lambda: "one-client", app=app)

    @app.route("/sign-in")
    @limiter.limit("3 per minute")
    def sign_in():
        return "ok"

    return app


@needs_redis
def test_two_workers_share_one_rate_limit_counter(key_prefix):
    first, second = worker(key_prefix).test_client(), worker(key_prefix).test_client()
    answers = [first.get("/sign-in").status_code, second.get("/sign-in").status_code,
               first.get("/sign-in").status_code, second.get("/sign-in").status_code]
    assert answers == [200, 200, 200, 429]  # the fourth try is refused, whichever worker gets it


def _limited_app(**overrides):
    """A bare app with one limited view and one unlimited, the memory store, and limit_in_views_only applied."""
    from lms.core.ratelimit import limit_in_views_only

    app = configured_app(RATELIMIT_STORAGE_URI=MEMORY, **overrides)
    limiter = Limiter(key_func=lambda: "one address")
    limiter.init_app(app)
    dropped = limit_in_views_only(app, limiter)

    @app.route("/limited")
    @limiter.limit("2 per minute")
    def limited():
        return "ok"

    @app.route("/free")
    def free():
        return "ok"
    return app, dropped


def test_without_app_wide_limits_the_before_request_pass_goes_and_view_limits_still_hold():
    app, dropped = _limited_app()
    assert dropped
    client = app.test_client()
    assert [client.get("/limited").status_code for _ in range(3)] == [200, 200, 429]
    assert all(client.get("/free").status_code == 200 for _ in range(5))


def test_a_configured_default_limit_keeps_the_before_request_pass():
    app, dropped = _limited_app(RATELIMIT_DEFAULT="3 per minute")
    assert not dropped
    client = app.test_client()
    assert [client.get("/free").status_code for _ in range(4)] == [200, 200, 200, 429]
