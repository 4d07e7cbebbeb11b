"""The quiz blueprint with all its routes: each *_views module registers its own on ``bp``."""
from .blueprint import bp
from . import bank_views, practice_views, results_views, test_views  # noqa: F401,E402 (they register routes)
from .test_views import course_test_summary  # noqa: F401 (the template helper, lms.quiz.init_app)

__all__ = ["bp"]
