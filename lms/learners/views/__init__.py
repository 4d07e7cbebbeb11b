"""The learners blueprint: the learner's home page, and learner materials for staff (registering is
lms.registration)."""
from flask import Blueprint

_PACKAGE = __name__.rpartition(".")[0]  # templates and static files live in the package, beside views/
bp = Blueprint("learners", _PACKAGE, template_folder="templates")

# The modules that register their routes on bp; the app factory imports them (this package imports
# none of them, since each imports bp from here).
MODULES = (".learner",)

__all__ = ["bp"]
