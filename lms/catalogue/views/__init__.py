"""The catalogue blueprint. The qualification catalogue, readable by every signed-in user."""
from flask import Blueprint

_PACKAGE = __name__.rpartition(".")[0]  # templates and static files live in the package, beside views/
bp = Blueprint("catalogue", _PACKAGE, template_folder="templates")

# The modules that register their routes on bp; the app factory imports them (this package imports
# none of them, since each imports bp from here).
MODULES = (".signed_in",)

__all__ = ["bp"]
