"""Production: HTTPS cookies, PostgreSQL and Redis from the environment."""
import os

SESSION_COOKIE_SECURE = True
SQLALCHEMY_DATABASE_URI = os.environ.get("LMS_DATABASE_URL")
RATELIMIT_STORAGE_URI = os.environ.get("LMS_RATELIMIT_STORAGE_URI", "redis://127.0.0.1:6379/0")
