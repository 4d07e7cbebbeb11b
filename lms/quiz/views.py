"""The quiz blueprint with all its routes: each *_views module registers its own on ``bp``."""
from .blueprint import bp
from . import bank_views, practice_views, results_views, test_views  # noqa: F401,E402 (they register routes)

__all__ = ["bp"]
