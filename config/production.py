"""Production: HTTPS cookies, PostgreSQL and Redis from the environment (LMS_DATABASE_URL, ...; lms/app.py)."""
SESSION_COOKIE_SECURE = True
LMS_HSTS = "max-age=31536000; includeSubDomains"  # browsers refuse plain http; LMS_HSTS= turns it off
SQLALCHEMY_DATABASE_URI = None  # never the default's SQLite file: LMS_DATABASE_URL must name the database
# Behind nginx: let X-Accel-Redirect send video bytes (LMS_X_ACCEL_PREFIX), and trust one proxy's
# X-Forwarded-For so that audit records hold the learner's address rather than 127.0.0.1.
LMS_TRUSTED_PROXIES = 1
