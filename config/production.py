"""Production: HTTPS cookies, PostgreSQL and Redis from the environment."""
import os

SESSION_COOKIE_SECURE = True
LMS_HSTS = os.environ.get("LMS_HSTS", "max-age=31536000; includeSubDomains")  # browsers refuse plain http
SQLALCHEMY_DATABASE_URI = os.environ.get("LMS_DATABASE_URL")
# Behind nginx: let X-Accel-Redirect send video bytes, and trust one proxy's X-Forwarded-For
# so that audit records hold the learner's address rather than 127.0.0.1.
LMS_X_ACCEL_PREFIX = os.environ.get("LMS_X_ACCEL_PREFIX") or None
LMS_TRUSTED_PROXIES = int(os.environ.get("LMS_TRUSTED_PROXIES", "1"))
