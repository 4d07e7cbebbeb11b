"""The registration blueprint: registering, and the learner's own materials page (the 1-inch photo is
the face enrolment photo, so these pages write to both lms.learners and lms.proctor)."""
from flask import Blueprint

_PACKAGE = __name__.rpartition(".")[0]  # templates and static files live in the package, beside views/
bp = Blueprint("registration", _PACKAGE, template_folder="templates", static_folder="static",
               static_url_path="/registration/static")

# The modules that register their routes on bp; the app factory imports them (this package imports
# none of them, since each imports bp from here).
MODULES = (".learner",)

__all__ = ["bp"]
