"""(being written)"""
from .blueprint import bp  # noqa: F401


def course_test_summary(course):
    return None
