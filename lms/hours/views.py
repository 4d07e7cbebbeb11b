from flask import Blueprint

bp = Blueprint("hours", __name__, template_folder="templates", url_prefix="/hours")
