"""The hours blueprint with all its routes: each *_views module registers its own on ``bp``."""
from .blueprint import bp
from . import export_views, learner_views, pdf_views, public_views, staff_views  # noqa: F401,E402 (routes)

__all__ = ["bp"]
