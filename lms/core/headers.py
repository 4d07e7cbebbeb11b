"""HTTP response headers that protect every page: Content-Security-Policy, framing, HSTS and caching.

lms/app.py calls ``secure(response)`` after every request."""
from flask import current_app, request

# Scripts and styles come only from our own static files: no inline <script>, no on*= attributes, no
# style= attributes (JSON data blocks, <script type="application/json">, are never executed and stay).
# img-src blob: is the face-check photo fallback (a chosen photo is redrawn through URL.createObjectURL);
# the camera preview is a MediaStream in video.srcObject and frames are posted with fetch, both 'self'.
CSP_DIRECTIVES = (
    ("default-src", "'self'"),
    ("script-src", "'self'"),
    ("style-src", "'self'"),
    ("img-src", "'self' blob:"),
    ("media-src", "'self'"),
    ("connect-src", "'self'"),
    ("font-src", "'self'"),
    ("object-src", "'none'"),
    ("base-uri", "'self'"),
    ("frame-ancestors", "'self'"),
    ("form-action", "'self'"),
)
CONTENT_SECURITY_POLICY = "; ".join(f"{name} {value}" for name, value in CSP_DIRECTIVES)


# Sent on every response unless the view set its own; lower-cased names to find them among a response's.
DEFAULT_HEADERS = (
    ("Content-Security-Policy", CONTENT_SECURITY_POLICY),
    ("X-Frame-Options", "SAMEORIGIN"),   # for browsers without frame-ancestors
    ("X-Content-Type-Options", "nosniff"),
    ("Referrer-Policy", "same-origin"),
)
_DEFAULT_NAMES = tuple((name.lower(), name, value) for name, value in DEFAULT_HEADERS)


def secure(response):
    """Add the security headers to ``response``; views may set stricter ones themselves. Runs on every
    response, so the names present are read once (Headers.setdefault scans the list each time)."""
    headers = response.headers
    present = {name.lower() for name, _ in headers.items()}
    headers.extend([(name, value) for lower, name, value in _DEFAULT_NAMES if lower not in present])
    _strict_transport(headers)
    if not is_static_asset():
        forbid_storing(headers, present)
    return response


def _strict_transport(headers) -> None:
    """HSTS only when configured and only on HTTPS: browsers ignore it over http, and sending it from a
    plain-http demo would mean nothing but confusion."""
    value = current_app.config.get("LMS_HSTS")
    if value and request.is_secure:
        headers.setdefault("Strict-Transport-Security", value)


def is_static_asset() -> bool:
    """CSS, JS and images of the app and its blueprints: the only responses that carry no personal data."""
    endpoint = request.endpoint or ""
    return endpoint == "static" or endpoint.endswith(".static")


def forbid_storing(headers, present: set[str]) -> None:
    """Every page and export may carry names, ID numbers, photos or study records (even an anonymous
    registration form shown again with its errors): neither the browser (back button, disk cache on a
    shared PC) nor a proxy may keep a copy. ``present``: the lower-cased names the response already has."""
    if "cache-control" not in present:
        headers.add("Cache-Control", "no-store")
    elif "no-store" not in headers.get("Cache-Control", ""):
        headers["Cache-Control"] = "no-store"
    if "pragma" not in present:
        headers.add("Pragma", "no-cache")  # HTTP/1.0 caches
    else:
        headers["Pragma"] = "no-cache"
