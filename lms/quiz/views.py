from flask import Blueprint

bp = Blueprint("quiz", __name__, template_folder="templates", url_prefix="/quiz")
