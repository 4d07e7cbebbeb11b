"""The accounts blueprint. Signing in and out, one-time links and passwords; staff's account management."""
from flask import Blueprint

_PACKAGE = __name__.rpartition(".")[0]  # templates and static files live in the package, beside views/
bp = Blueprint("accounts", _PACKAGE, template_folder="templates", static_folder="static",
               static_url_path="/accounts/static")

# The modules that register their routes on bp; the app factory imports them (this package imports
# none of them, since each imports bp from here).
MODULES = (".sign_in",)

__all__ = ["bp"]
