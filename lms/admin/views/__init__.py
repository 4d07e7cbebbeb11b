"""The admin blueprint. The administrator's pages: institutions and hour rules."""
from flask import Blueprint

_PACKAGE = __name__.rpartition(".")[0]  # templates and static files live in the package, beside views/
bp = Blueprint("admin", _PACKAGE, template_folder="templates", url_prefix="/admin")

# The modules that register their routes on bp; the app factory imports them (this package imports
# none of them, since each imports bp from here).
MODULES = (".admin",)

__all__ = ["bp"]
