"""The player blueprint. staff: courses, lessons, curricula, study records; learner: study pages and
video files; api: the player's JSON API."""
from flask import Blueprint

_PACKAGE = __name__.rpartition(".")[0]  # templates and static files live in the package, beside views/
bp = Blueprint("player", _PACKAGE, template_folder="templates", static_folder="static",
               static_url_path="/player/static")

# The modules that register their routes on bp; the app factory imports them (this package imports
# none of them, since each imports bp from here).
MODULES = (".learner", ".staff", ".api")

__all__ = ["bp"]
