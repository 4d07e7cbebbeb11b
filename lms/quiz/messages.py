"""The quiz's refusals and problems, in the user's language."""
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from .models import TRUE_FALSE

KIND_NAMES = {"true_false": _l("True/false"), "single": _l("Single choice"), "multiple": _l("Multiple choice")}

FIELD_NAMES = {"kind": _l("Question type"), "stem": _l("Question"), "options": _l("Options"),
               "answer": _l("Answer"), "explanation": _l("Explanation"), "knowledge_point": _l("Knowledge point"),
               "lesson": _l("Lesson")}

DRAFT_PROBLEMS = {
    "kind": _l("The question type must be true/false, single choice or multiple choice."),
    "required": _l("This field is required."),
    "too_long": _l("The text is too long."),
    "true_false_options": _l("A true/false question has no options."),
    "option_count": _l("A choice question needs 2 to 8 options."),
    "option_text": _l("Every option needs a text of at most 500 characters."),
    "option_repeat": _l("Two options have the same text."),
    "answer_true_false": _l("The answer of a true/false question is 正确 or 错误 (A or B)."),
    "answer_single": _l("The answer of a single-choice question is one letter of its options."),
    "answer_multiple": _l("The answer of a multiple-choice question is two or more letters of its options."),
    "lesson": _l("The lesson is not part of this course."),
}

ERRORS = {
    "other_tab": _l("This test is open in another window or tab; continue there, or reload this page to continue here."),
    "not_served": _l("This question has not been served in this attempt."),
    "already_answered": _l("This question was already answered or its time ran out."),
    "bad_answer": _l("The answer is not valid for this question."),
    "finished": _l("This attempt has ended."),
    "conflict": _l("The test was changed by another request. Please reload the page."),
    "passed": _l("You have already passed this test."),
    "locked": _l("All attempts are used: the test is locked. Please contact your training institution."),
    "lessons": _l("The test opens once every lesson is complete and its time is confirmed by a face check."),
    "no_paper": _l("The test of this course is not ready yet. Please contact your training institution."),
    "face_not_enrolled": _l("Please register your face photo before the test."),
    "on_manual_paper": _l("The question is on the hand-made paper; take it off the paper first."),
    "manual_question": _l("Choose questions of this course's bank, each once."),
}


def option_texts(kind: str, options: list[str]) -> list[str]:
    """What each option of a question says, A first: 正确 and 错误 for a true/false question."""
    return [_("True"), _("False")] if kind == TRUE_FALSE else options


def true_false_text(letter: str) -> str:
    return option_texts(TRUE_FALSE, [])["AB".index(letter)]


def problem_text(code: str, details: dict) -> str:
    """A paper or bank problem (bank.publish_problems, papers.rule_problems) as a sentence."""
    kind = KIND_NAMES.get(details.get("kind"), "")
    texts = {
        "bank_too_small": lambda: _("The question bank needs at least %(needed)d questions (one per 10 minutes of "
                                    "video), it has %(available)d.", **details),
        "no_settings": lambda: _("Set how the test papers are composed first."),
        "kind_rule": lambda: _("%(kind)s: give both a number of questions and points per question, or neither.",
                               kind=kind),
        "not_enough": lambda: _("%(kind)s: the paper needs %(needed)d questions, the bank has %(available)d.",
                                kind=kind, needed=details["needed"], available=details["available"]),
        "total": lambda: _("The paper totals %(total)d points; it must total 100.", **details),
        "manual_empty": lambda: _("The hand-made paper has no questions."),
        "manual_points": lambda: _("Every question on the paper needs at least 1 point."),
    }
    return texts[code]() if code in texts else code


def quiz_error(error) -> str:
    """A QuizError as a sentence."""
    if error.code == "invalid_question":
        return " ".join(f"{FIELD_NAMES.get(field, field)}: {DRAFT_PROBLEMS.get(code, code)}"
                        for field, code in error.details["problems"])
    if error.code in ("paper", "bank_too_small"):
        problems = error.details.get("problems") or [(error.code, error.details)]
        return " ".join(problem_text(code, details) for code, details in problems)
    return str(ERRORS.get(error.code, error.code))
