"""Test settings: tests pass database URL and keys explicitly to the factory.

Rate limiting stays initialised here; the test fixtures switch it off and the
rate-limit test switches it on, so that many logins from 127.0.0.1 do not collide.
"""
TESTING = True
LMS_LOGIN_MAX_FAILURES = 3
# Each test process counts in its own memory: several test runs (SQLite, PostgreSQL, other checkouts) share
# this machine's Redis and would trip each other's sign-in limits for 127.0.0.1. tests/test_ratelimit_storage.py
# checks the Redis choice itself.
RATELIMIT_STORAGE_URI = "memory://"
# scrypt at werkzeug's cost takes about 0.1 s per hash, and the suite makes thousands of accounts and sign-ins;
# the rules under test do not depend on the cost. Honoured only with TESTING (lms/accounts/services.py).
LMS_TEST_PASSWORD_HASH_METHOD = "pbkdf2:sha256:1000"
# The demo's generated lessons are 30 s of 720p; 4 s test the same path at an eighth of the encoding cost.
LMS_DEMO_CLIP_SECONDS = 4
