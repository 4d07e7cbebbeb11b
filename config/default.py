"""Defaults for every environment. Secrets come from the environment or instance/config.py; the environment
variables the app reads are listed in lms/app.py (ENVIRONMENT), which alone reads them."""
import os
from datetime import timedelta

_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

SQLALCHEMY_DATABASE_URI = "sqlite:///" + os.path.join(_ROOT, "instance", "lms.sqlite3")
SQLALCHEMY_ENGINE_OPTIONS = {}  # idle pooled connections are pinged before use: extensions.ping_idle_connections
MEDIA_ROOT = os.path.join(_ROOT, "media")

# Secrets: set in the environment or instance/config.py (scripts/bootstrap.sh writes one).
SECRET_KEY = None
LMS_DATA_KEYS = None        # "k1:<base64 32 bytes>,k2:..." (AES-256-GCM)
LMS_ACTIVE_KEY_ID = None    # which of LMS_DATA_KEYS encrypts new data
LMS_HMAC_KEY = None         # base64, >= 32 bytes, for ID-number lookups

BABEL_DEFAULT_LOCALE = "zh_CN"
BABEL_DEFAULT_TIMEZONE = "Asia/Shanghai"
LMS_LOCALES = ("zh_CN", "en")

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_SECURE = False  # production.py turns it on (HTTPS only)
LMS_HSTS = None  # Strict-Transport-Security value; production.py sets it; sent over HTTPS only
SESSION_COOKIE_NAME = "lms_session"
PERMANENT_SESSION_LIFETIME = timedelta(hours=8)
# Re-sign the cookie only when the session changes (its last_seen at most every 30 s while in use),
# not on every response: signing it cost more than a no-op view (issue 22). The idle limit is the
# server's (LMS_SESSION_IDLE_MINUTES), not the cookie's expiry.
SESSION_REFRESH_EACH_REQUEST = False
LMS_SESSION_IDLE_MINUTES = 30

LMS_LOGIN_MAX_FAILURES = 5
LMS_LOGIN_LOCK_MINUTES = 15
LMS_LOGIN_RATE_LIMIT = "20 per minute"
LMS_REGISTER_RATE_LIMIT = "30 per hour"
# Rate-limit counters shared by every worker process. lms/core/ratelimit.py asks Redis at start-up and,
# where it does not answer, falls back to per-process memory (and says so once in the log).
RATELIMIT_STORAGE_URI = "redis://127.0.0.1:6379/0"  # LMS_RATELIMIT_STORAGE_URI
RATELIMIT_STORAGE_OPTIONS = {"socket_connect_timeout": 0.5, "socket_timeout": 0.5}  # a stuck Redis never hangs sign-in
RATELIMIT_IN_MEMORY_FALLBACK_ENABLED = True  # Redis gone after start: count in memory until it is back
RATELIMIT_KEY_PREFIX = "lms"
RATELIMIT_HEADERS_ENABLED = True

LMS_TOKEN_LIFETIME_HOURS = 72
LMS_MAX_UPLOAD_BYTES = 5 * 1024 * 1024
MAX_CONTENT_LENGTH = 24 * 1024 * 1024  # whole request: four materials plus form fields
LMS_MAX_JSON_BYTES = 64 * 1024         # a request to the JSON API (/api/...); a heartbeat is about 200 bytes

WTF_CSRF_TIME_LIMIT = None  # the token lives as long as the session

# Player (lms/player): study-time accounting
LMS_HEARTBEAT_SECONDS = 12          # how often the page reports
LMS_HEARTBEAT_MAX_GAP = 40          # a longer silence earns nothing
LMS_IDLE_SECONDS = 600              # no interaction for this long: "are you still there?"
LMS_IDLE_GRACE_SECONDS = 60         # unanswered for this long: the learning session ends
LMS_DAILY_CAP_MINUTES = 480         # credited study per learner per China calendar day
LMS_MEDIA_URL_SECONDS = 600         # lifetime of a signed video URL
LMS_COURSE_REVIEW_DAYS = 365        # a course not reviewed for longer is flagged
LMS_MAX_VIDEO_BYTES = 2 * 1024 ** 3
LMS_DEMO_CLIP_SECONDS = 30            # length of each generated demo lesson (flask lms seed-demo)
LMS_X_ACCEL_PREFIX = None           # e.g. "/protected-media/": nginx serves the bytes (see README)
LMS_TRANSCODE_LEASE_SECONDS = 120   # a job not renewed for this long is taken over by another worker
LMS_TRANSCODE_MAX_ATTEMPTS = 3
LMS_TRUSTED_PROXIES = 0            # reverse proxies in front of the app (production: 1)

# The course test (lms/quiz)
LMS_QUIZ_SECONDS_PER_QUESTION = 60  # shown as the countdown and enforced on the server
LMS_QUIZ_GRACE_SECONDS = 2          # network allowance for an answer sent as the countdown ends
LMS_QUIZ_MAX_ATTEMPTS = 5
LMS_QUIZ_PASS_SCORE = 80            # of 100
LMS_QUIZ_SLACK_MINUTES = 30         # an attempt still open this long after its questions' time is ended
LMS_QUIZ_MAX_IMPORT_BYTES = 5 * 1024 * 1024

# Study hours and certificates (lms/hours)
LMS_PUBLIC_URL = "http://127.0.0.1:8000"  # printed in certificate QR codes and activation links
LMS_CJK_FONT = "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc"  # TrueType (apt fonts-wqy-microhei), embedded
LMS_EXPORT_MAX_CERTIFICATES = 2000  # per ZIP export
LMS_VERIFY_RATE_LIMIT = "120 per minute"  # public verification, per address

# Face enrolment and checks (lms/proctor). Thresholds: see README "Face checks" for the measurements.
LMS_FACE_CHECKS = True              # tests of unrelated modules turn it off; production keeps it on
LMS_FACE_MATCH_DISTANCE = 0.60      # encoding distance below which a frame shows the enrolled person
LMS_FACE_DOUBTFUL_BAND = 0.05       # results this close to the threshold go to staff review
LMS_FACE_MIN_YAW_CHANGE = 0.12      # liveness: how far the head must turn toward the asked side after the prompt
LMS_FACE_MIN_PARALLAX = 0.06        # ... moving the nose off where a flat picture would put it (README, "Face checks")
LMS_FACE_MIN_PITCH_CHANGE = 0.08    # ... or nod up or down (faces._pitch)
# A camera attempt: a random 2-4 "hold" frames this far apart while the head looks ahead, then the prompt, then a
# dense burst in which the move must be seen happening (lms/proctor/motion.py): 18 frames 80 ms apart (1.44 s).
LMS_FACE_HOLD_FRAMES = (2, 4)
LMS_FACE_FRAME_INTERVAL_MS = 300
LMS_FACE_BURST_FRAMES = 18
LMS_FACE_BURST_INTERVAL_MS = 80
LMS_FACE_ACTIONS = ("left", "right", "up", "down")   # the moves a challenge picks from at random
# One answer's JSON body: up to 22 640x480 JPEG frames as base64 data URLs (hold frames at quality 0.85, burst
# frames at 0.75), or two photos of at most 1280 px (lms/proctor/static/facecheck.js). A real webcam frame is
# 25-80 KB, pure sensor noise 230 KB (22 of those: 6.9 MB as base64). Scale it with the frame counts.
LMS_MAX_FACE_ATTEMPT_BYTES = 10 * 1024 * 1024
LMS_FACE_ANSWER_SLACK_SECONDS = 10  # the answer must arrive within this long after its last frame was due
LMS_FACE_PHOTO_SECONDS = 180        # no camera: time to take the two photos and send them
# No camera (the page's word only): at most this many photo challenges per learner in any 24 hours, over all
# courses; never where the same learning session or test already had a camera challenge; 0 turns photos off.
# Photos that pass go to staff review (README, "Face checks", Phones). 4 tries is one or two checks: a short
# session on an old phone, not a course without a camera.
LMS_FACE_PHOTO_FALLBACK_PER_DAY = 4
LMS_FACE_UPSAMPLED_FRAMES = 1       # frames per attempt searched for small second faces (about +70 ms each)
LMS_FACE_MIN_SHARPNESS = 25.0       # enrolment photo: Laplacian variance over the face at 128x128 px
LMS_FACE_CHECK_ATTEMPTS = 3         # tries per check ...
LMS_FACE_CHECK_WINDOW_SECONDS = 180 # ... within this long after it is due; then the learner is signed out
LMS_FACE_CHECK_MIN_SECONDS = 300    # random interval between checks during study;
LMS_FACE_CHECK_MAX_SECONDS = 900    # never above 900 (15 minutes): the app refuses to start otherwise
LMS_FACE_EVIDENCE_DAYS = 1095       # retention of captured frames (decisions and scores are kept)
