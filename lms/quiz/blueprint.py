"""The quiz blueprint; its routes live in the *_views modules that views.py imports."""
from flask import Blueprint

bp = Blueprint("quiz", __name__, template_folder="templates", static_folder="static",
               static_url_path="/static", url_prefix="/quiz")
