"""The learners blueprint. Registration and the learner's own pages, and learner materials for staff."""
from flask import Blueprint

_PACKAGE = __name__.rpartition(".")[0]  # templates and static files live in the package, beside views/
bp = Blueprint("learners", _PACKAGE, template_folder="templates", static_folder="static",
               static_url_path="/learners/static")

# The modules that register their routes on bp; the app factory imports them (this package imports
# none of them, since each imports bp from here).
MODULES = (".learner",)

__all__ = ["bp"]
