from flask import Blueprint

bp = Blueprint("proctor", __name__, template_folder="templates", url_prefix="/proctor")
