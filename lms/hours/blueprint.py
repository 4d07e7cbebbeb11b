"""The hours blueprint; its routes live in the *_views modules that views.py imports. No URL prefix:
the public verification short route (/V/<payload>) sits at the root, every other route under /hours."""
from flask import Blueprint

bp = Blueprint("hours", __name__, template_folder="templates", static_folder="static",
               static_url_path="/hours/static")
