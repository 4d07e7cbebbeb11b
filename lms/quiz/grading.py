"""Answers: letters, option shuffling and scoring. Pure functions.

An answer is kept as the sorted letters of the original options chosen ("A", "ACD"); for a
true/false question "A" is true and "B" is false. A page shows options in a shuffled order and
sends back the positions it showed; ``order`` (shown i-th -> original index) maps them back.
A multiple-choice question scores only when exactly the right options are chosen (多选、少选、错选均不得分).
"""
from random import Random

from .models import MULTIPLE, SINGLE, TRUE_FALSE

LETTERS = "ABCDEFGH"
MAX_OPTIONS = len(LETTERS)
MIN_OPTIONS = 2


def option_count(kind: str, options: list[str]) -> int:
    return 2 if kind == TRUE_FALSE else len(options)


def letters_of(indices) -> str:
    return "".join(sorted({LETTERS[i] for i in indices}))


def indices_of(letters: str) -> list[int]:
    return [LETTERS.index(letter) for letter in letters]


def shuffled_order(kind: str, count: int, rng: Random) -> list[int]:
    """The order options are shown in for one attempt. True/false keeps 正确 before 错误."""
    order = list(range(count))
    if kind != TRUE_FALSE:
        rng.shuffle(order)
    return order


def response_from_shown(kind: str, shown: list[int], order: list[int]) -> str | None:
    """Original letters for the shown positions a page sent, or None when the choice is not a valid
    answer of this kind (a position out of range, a repeat, or several choices for a one-answer kind).
    An empty choice is a valid "no answer" (it scores zero)."""
    if not isinstance(shown, list) or any(type(i) is not int or not 0 <= i < len(order) for i in shown):
        return None
    if len(set(shown)) != len(shown):
        return None
    if kind in (TRUE_FALSE, SINGLE) and len(shown) > 1:
        return None
    return letters_of(order[i] for i in shown)


def is_correct(key: str, response: str | None) -> bool:
    return bool(response) and response == key


def score_of(key: str, response: str | None, points: int, late: bool) -> int:
    return points if not late and is_correct(key, response) else 0


def valid_key(kind: str, key: str, count: int) -> bool:
    """A stored key: sorted distinct letters within the options, one for true/false and single choice,
    at least two for multiple choice."""
    if not key or any(c not in LETTERS for c in key) or key != letters_of(indices_of(key)):
        return False
    if any(index >= count for index in indices_of(key)):
        return False
    return len(key) == 1 if kind in (TRUE_FALSE, SINGLE) else (kind == MULTIPLE and len(key) >= 2)
