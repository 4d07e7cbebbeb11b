from flask import Blueprint

bp = Blueprint("player", __name__, template_folder="templates", url_prefix="/player")
