"""What the quiz adds to the player's pages of a course (lms.player.cards, registered in init_app):
the course test's state for the learner (attempts.test_status), and the question bank against the
size rule for staff (also shown on the quiz's own bank and paper pages)."""
from dataclasses import dataclass

from ..player.models import Course
from . import bank
from .messages import problem_text


@dataclass(frozen=True)
class BankStatus:
    """What the staff course page shows of the course's test: the bank against the size rule, and
    whether its papers can be composed."""
    active: int
    required: int
    paper_problems: list

    @property
    def enough(self) -> bool:
        return self.active >= self.required

    @property
    def paper_ready(self) -> bool:
        return not self.paper_problems


def bank_status(course: Course) -> BankStatus:
    return BankStatus(bank.active_count(course.id), bank.required_size(course),
                      [problem_text(code, details) for code, details in bank.paper_problems(course.id)])
