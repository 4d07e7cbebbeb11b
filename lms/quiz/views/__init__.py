"""The quiz blueprint with all its routes: each module of this package registers its own on ``bp``
(bank: staff's question banks; exam: the learner's course test and its API; results: results for
learners and staff); practice's pages live with its rules in lms/quiz/practice/."""
from flask import Blueprint

_PACKAGE = __name__.rpartition(".")[0]  # templates and static files live in the package, beside views/
bp = Blueprint("quiz", _PACKAGE, template_folder="templates", static_folder="static",
               static_url_path="/static", url_prefix="/quiz")

# The modules that register their routes on bp; the app factory imports them (this package imports
# none of them, since each imports bp from here).
MODULES = (".bank", ".exam", ".results", "..practice.views")

__all__ = ["bp"]
