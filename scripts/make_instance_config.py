"""Print an instance/config.py with freshly generated secrets."""
import base64
import os
import secrets

print(f"SECRET_KEY = {secrets.token_hex(32)!r}")
print(f"LMS_DATA_KEYS = 'k1:{base64.b64encode(os.urandom(32)).decode()}'")
print("LMS_ACTIVE_KEY_ID = 'k1'")
print(f"LMS_HMAC_KEY = {base64.b64encode(os.urandom(32)).decode()!r}")
