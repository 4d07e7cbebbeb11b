"""The institutions blueprint. Training classes and applications, for learners, staff, regulators and admins."""
from flask import Blueprint

_PACKAGE = __name__.rpartition(".")[0]  # templates and static files live in the package, beside views/
bp = Blueprint("institutions", _PACKAGE, template_folder="templates")

# The modules that register their routes on bp; the app factory imports them (this package imports
# none of them, since each imports bp from here).
MODULES = (".classes",)

__all__ = ["bp"]
