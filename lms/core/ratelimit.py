"""Where the rate-limit counters live: Redis, shared by every worker process, wherever it answers.

gunicorn runs several workers; with per-process memory each keeps its own count, so "20 sign-ins per
minute" would really allow 20 per worker. Redis gives them one counter. A newcomer's machine may have
no Redis: then the counters fall back to memory and the log says so once, at start-up."""
REDIS_SCHEMES = ("redis://", "rediss://")  # sentinel, cluster and socket URIs are kept as configured
PROBE_SECONDS = 0.3  # an answering local Redis replies in well under a millisecond
MEMORY = "memory://"


def choose_storage(app) -> str:
    """Keep a Redis RATELIMIT_STORAGE_URI if Redis answers, else switch the app to memory, saying so in
    the app's log (Flask gives it a stderr handler, so gunicorn and the flask command both show it).
    Returns the URI chosen."""
    uri = app.config.get("RATELIMIT_STORAGE_URI") or MEMORY
    if uri.startswith(REDIS_SCHEMES) and not redis_answers(uri):
        app.logger.warning("Rate limits: Redis at %s does not answer; counting in this process's memory, "
                           "so each worker keeps its own count. Start Redis to share one counter.", _redacted(uri))
        uri = MEMORY
    app.config["RATELIMIT_STORAGE_URI"] = uri
    return uri


def redis_answers(uri: str, timeout: float = PROBE_SECONDS) -> bool:
    """True if the redis package is installed and the server at ``uri`` answers PING within ``timeout``."""
    try:
        import redis
    except ImportError:
        return False
    client = redis.Redis.from_url(uri, socket_connect_timeout=timeout, socket_timeout=timeout)
    try:
        return bool(client.ping())
    except (redis.RedisError, OSError):
        return False
    finally:
        client.close()


def _redacted(uri: str) -> str:
    """The URI without a password, for the log."""
    scheme, sep, rest = uri.partition("://")
    if "@" in rest:
        rest = "***@" + rest.split("@", 1)[1]
    return scheme + sep + rest


LIMIT_CONFIG_KEYS = ("RATELIMIT_DEFAULT", "RATELIMIT_APPLICATION", "RATELIMIT_META")


def limit_in_views_only(app, limiter) -> bool:
    """Drop Flask-Limiter's before-request pass when no limit needs it; True if dropped.

    Every limit of this app is a view's own (``@limiter.limit`` on sign-in, registration and the
    certificate check), which the decorated view checks when it runs. The before-request pass only
    counts application, default and meta limits: with none configured it counts nothing on any
    request, yet it took about a tenth of a signed-in no-op's time (issue 22). Configure one of
    LIMIT_CONFIG_KEYS and the pass stays."""
    if any(app.config.get(key) for key in LIMIT_CONFIG_KEYS):
        return False
    hooks = app.before_request_funcs.get(None, [])
    app.before_request_funcs[None] = [hook for hook in hooks if hook != limiter._check_request_limit]
    return len(hooks) != len(app.before_request_funcs[None])
