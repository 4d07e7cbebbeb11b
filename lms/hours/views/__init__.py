"""The hours blueprint with all its routes: each module of this package registers its own on ``bp``
(learner, staff, public; export and pdf for the file formats). No URL prefix: the public verification
short route (/V/<payload>) sits at the root, every other route under /hours."""
from flask import Blueprint

_PACKAGE = __name__.rpartition(".")[0]  # templates and static files live in the package, beside views/
bp = Blueprint("hours", _PACKAGE, template_folder="templates", static_folder="static",
               static_url_path="/hours/static")

# The modules that register their routes on bp; the app factory imports them (this package imports
# none of them, since each imports bp from here).
MODULES = (".export", ".learner", ".pdf", ".public", ".staff")

__all__ = ["bp"]
