"""Learners' practice pages (lms/quiz/practice.py holds the rules): the practice home of a course,
sequential practice, mock exams, the wrong-question book, favourites and search.

Answering is a form POST (PRG: the page shown afterwards names the recorded answer) or the same
endpoint with a JSON body, which answers with JSON. A page of a question that is not yet answered
holds neither its key nor its explanation.
"""
import re
from functools import wraps
from random import SystemRandom

from flask import abort, current_app, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from werkzeug.exceptions import NotFound

from ..core.access import role_required
from ..core.clock import utcnow
from ..core.inputs import MESSAGES as INPUT_MESSAGES
from ..core.roles import LEARNER
from ..extensions import db
from ..player.models import Course
from . import attempts, grading, permissions, practice
from .bank import QuizError
from .blueprint import bp
from .messages import KIND_NAMES, option_texts, quiz_error, true_false_text
from .models import MULTIPLE, TRUE_FALSE

_rng = SystemRandom()  # a mock paper must not be predictable

ERRORS = {
    "unknown_question": _l("This question is not in the question bank of this course."),
    "no_choice": _l("Please choose an answer first."),
    "bad_mode": _l("Unknown practice mode."),
    "practice_conflict": _l("Your answer could not be saved because of another request at the same moment. "
                            "Please try again."),
    "search_too_long": _l("The search text is too long."),
    "mock_unavailable": _l("A mock exam is not available: the question bank of this course has no questions yet."),
    "mock_tampered": _l("This mock exam paper was altered or is not yours, so it cannot be graded. "
                        "Please start a new mock exam."),
    "mock_expired": _l("This mock exam paper is more than 24 hours old. Please start a new mock exam."),
    "mock_stale": _l("The question bank changed after this mock exam paper was made. Please start a new mock exam."),
    "test_in_progress": _l("Practice is closed while your test of this course is in progress."),
}
CHOICE = re.compile(r"[0-9]{1,2}")        # a shown position (at most 8 options)
NUMBER = re.compile(r"[0-9]{1,9}")        # a question number or id in a query string: fits 32 bits
MOCK_FIELD = re.compile(r"q([0-9]{1,4})")


def _number(text: str | None) -> int:
    """A whole number from a query string, 0 when it is not one (str.isdigit also takes "²")."""
    return int(text) if text is not None and NUMBER.fullmatch(text) else 0


def practice_error(error: QuizError) -> str:
    if error.code == "bad_mock_answer":
        return _("Question %(position)d: the answer is not valid.", position=error.details["position"])
    if error.code in ERRORS:
        return str(ERRORS[error.code])
    return quiz_error(error)


def _wants_json() -> bool:
    return request.is_json or request.accept_mimetypes.best == "application/json"


def _json_error(message: str, status: int, code: str):
    return jsonify(error=message, code=code), status


def _not_found(message: str):
    """A 404 page that says what was not found (lms/errors.py shows ``user_message``)."""
    error = NotFound()
    error.user_message = message
    raise error


def _course(course_id: int) -> Course:
    """The course, when the signed-in learner may practise it; for anyone else it does not exist."""
    course = db.session.get(Course, course_id)
    if course is None or not permissions.can_practise(current_user, course):
        abort(404)
    return course


def _learner_id() -> int:
    return current_user.learner.id


def _closed_for_test(course: Course):
    """A redirect to the practice home (which says why) while the course's test is in progress."""
    if practice.test_in_progress(_learner_id(), course.id, utcnow()):
        if _wants_json():
            return _json_error(str(ERRORS["test_in_progress"]), 409, "test_in_progress")
        flash(str(ERRORS["test_in_progress"]), "error")
        return redirect(url_for("quiz.practice_home", course_id=course.id))
    return None


def practice_page(view):
    """A practice route: for a learner who may practise the course, and closed while its test is in
    progress. The view gets the course in place of its id."""
    @wraps(view)
    def wrapped(course_id, **kwargs):
        course = _course(course_id)
        return _closed_for_test(course) or view(course, **kwargs)
    return role_required(LEARNER)(wrapped)


# --- what a page shows of a question --------------------------------------------------------------------

def shown_options(question, order: list[int] | None = None) -> list[tuple[int, str, str]]:
    """(position sent back, letter shown, text) of each option in the order shown."""
    texts = option_texts(question.kind, question.option_list)
    order = order if order is not None else practice.original_order(question)
    return [(position, grading.LETTERS[position], texts[index]) for position, index in enumerate(order)]


def answer_text(question, letters: str, order: list[int] | None = None) -> str:
    """Original letters as the page shows them: 正确/错误 for true/false, else the letters shown."""
    if not letters:
        return _("No answer")
    if question.kind == TRUE_FALSE:
        return true_false_text(letters)
    return practice.shown_letters(letters, order) if order is not None else letters


def _reveal(question, response: str, correct: bool) -> dict:
    """What the page may show once the learner's answer is recorded."""
    return {"response": response, "correct": correct, "key": question.answer,
            "response_text": answer_text(question, response), "key_text": answer_text(question, question.answer),
            "explanation": question.explanation}


def _question_page(course, question, mode, answer=None, **context):
    learner_id = _learner_id()
    return render_template(
        "quiz/practice_question.html", course=course, question=question, mode=mode,
        kind_name=KIND_NAMES.get(question.kind, question.kind), multiple=question.kind == MULTIPLE,
        options=shown_options(question), reveal=_reveal(question, answer.response, answer.correct) if answer else None,
        favourite=bool(practice.favourite_ids(learner_id, [question.id])), answer_text=answer_text, **context)


def _answer_id() -> int | None:
    return _number(request.args.get("answer")) or None


# --- the practice home ----------------------------------------------------------------------------------

@bp.route("/courses/<int:course_id>/practice")
@role_required(LEARNER)
def practice_home(course_id):
    course = _course(course_id)
    return render_template("quiz/practice.html", course=course,
                           counts=practice.practice_counts(_learner_id(), course.id),
                           closed=practice.test_in_progress(_learner_id(), course.id, utcnow()),
                           points=practice.knowledge_points(course.id))


# --- sequential practice --------------------------------------------------------------------------------

@bp.route("/courses/<int:course_id>/practice/sequential")
@practice_page
def practice_sequential(course):
    ids = practice.bank_ids(course.id)
    if not ids:
        flash(_("The question bank of this course has no questions yet."), "error")
        return redirect(url_for("quiz.practice_home", course_id=course.id))
    asked = request.args.get("n")
    if asked is None:
        position = practice.resume_position(ids, practice.sequential_answered(_learner_id(), course.id))
    else:
        position = _number(asked)
        if not 1 <= position <= len(ids):
            flash(_("There is no question %(number)s: the bank has questions 1 to %(count)d.",
                    number=asked[:20], count=len(ids)), "error")
            return redirect(url_for("quiz.practice_sequential", course_id=course.id))
    question = practice.practice_question(course.id, ids[position - 1])
    answer = practice.own_answer(_learner_id(), _answer_id(), question.id)
    return _question_page(
        course, question, practice.SEQUENTIAL, answer, position=position, total=len(ids),
        prev_url=url_for("quiz.practice_sequential", course_id=course.id, n=position - 1) if position > 1 else None,
        next_url=url_for("quiz.practice_sequential", course_id=course.id, n=position + 1)
        if position < len(ids) else None)


# --- answering and starring -----------------------------------------------------------------------------

def _choice_from_form() -> list | None:
    """The positions chosen in a form: small whole numbers, else None (malformed)."""
    values = request.form.getlist("choice")
    if any(not CHOICE.fullmatch(value) for value in values):
        return None
    return [int(value) for value in values]


def _after_answer_url(course, question, mode, answer_id=None) -> str:
    if mode == practice.SEQUENTIAL:
        ids = practice.bank_ids(course.id)
        return url_for("quiz.practice_sequential", course_id=course.id, n=ids.index(question.id) + 1,
                       answer=answer_id)
    if mode == practice.WRONG:
        return url_for("quiz.practice_wrong_replay", course_id=course.id, q=question.id, answer=answer_id)
    return url_for("quiz.practice_question", course_id=course.id, question_id=question.id, mode=mode,
                   answer=answer_id)


@bp.route("/courses/<int:course_id>/practice/questions/<int:question_id>/answer", methods=["POST"])
@practice_page
def practice_answer(course, question_id):
    """Grade and record an answer, then (and only then) show the key and the explanation."""
    as_json = request.is_json
    payload = request.get_json(silent=True) if as_json else None
    if as_json and not isinstance(payload, dict):
        return _json_error(str(INPUT_MESSAGES["json"]), 400, "malformed")
    mode = payload.get("mode") if as_json else request.form.get("mode", "")
    shown = payload.get("choice") if as_json else _choice_from_form()
    question, missing = _question_to_practise(course, question_id, as_json)
    if missing:
        return missing
    try:
        if shown is None:
            raise QuizError("bad_answer")
        answer = practice.record_answer(_learner_id(), question, shown, mode, utcnow())
    except QuizError as error:
        if as_json:
            return _json_error(practice_error(error), 409 if error.code == "practice_conflict" else 400, error.code)
        flash(practice_error(error), "error")
        safe_mode = mode if mode in practice.SINGLE_MODES else practice.SEARCH
        return redirect(_after_answer_url(course, question, safe_mode))
    if as_json:
        reveal = _reveal(question, answer.response, answer.correct)
        return jsonify(answer_id=answer.id, correct=answer.correct, response=answer.response, key=question.answer,
                       response_text=reveal["response_text"], key_text=reveal["key_text"],
                       explanation=question.explanation,
                       in_wrong_book=practice.wrong_entry(_learner_id(), question.id) is not None)
    return redirect(_after_answer_url(course, question, mode, answer.id))


def _question_to_practise(course, question_id: int, as_json: bool):
    """(the course's question, None), or (None, a JSON 404) when it is not one; a 404 page for a form."""
    try:
        return practice.practice_question(course.id, question_id), None
    except QuizError as error:
        if as_json:
            return None, _json_error(practice_error(error), 404, error.code)
        _not_found(practice_error(error))


def _safe_back(course) -> str:
    """Back to the practice page the star was pressed on; only a page of this course's practice."""
    home = url_for("quiz.practice_home", course_id=course.id)
    target = request.form.get("next", "")
    if (target == home or target.startswith(home + "/") or target.startswith(home + "?")) and \
            not any(char == "\\" or ord(char) < 32 or ord(char) == 127 for char in target) and "//" not in target:
        return target
    return home


@bp.route("/courses/<int:course_id>/practice/questions/<int:question_id>/favourite", methods=["POST"])
@role_required(LEARNER)
def practice_favourite(course_id, question_id):
    """Star (on=1) or unstar (on=0) a question."""
    course = _course(course_id)
    as_json = request.is_json
    payload = request.get_json(silent=True) if as_json else None
    on = payload.get("on") if isinstance(payload, dict) else {"1": True, "0": False}.get(request.form.get("on"))
    question, missing = _question_to_practise(course, question_id, as_json)
    if missing:
        return missing
    if not isinstance(on, bool):
        message = _("Say whether to star or unstar the question.")
        if as_json:
            return _json_error(message, 400, "malformed")
        flash(message, "error")
        return redirect(_safe_back(course))
    practice.set_favourite(_learner_id(), question, on, utcnow())
    if as_json:
        return jsonify(favourite=on)
    flash(_("Added to your favourites.") if on else _("Removed from your favourites."), "success")
    return redirect(_safe_back(course))


# --- a single question (from favourites or search) ------------------------------------------------------

@bp.route("/courses/<int:course_id>/practice/questions/<int:question_id>")
@practice_page
def practice_question(course, question_id):
    mode = practice.FAVOURITE if request.args.get("mode") == practice.FAVOURITE else practice.SEARCH
    try:
        question = practice.practice_question(course.id, question_id)
    except QuizError as error:
        _not_found(practice_error(error))
    answer = practice.own_answer(_learner_id(), _answer_id(), question.id)
    back = ("quiz.practice_favourites", _("Back to favourites")) if mode == practice.FAVOURITE else \
        ("quiz.practice_search", _("Back to search"))
    return _question_page(course, question, mode, answer, back_url=url_for(back[0], course_id=course.id),
                          back_label=back[1])


# --- the wrong-question book ----------------------------------------------------------------------------

@bp.route("/courses/<int:course_id>/practice/wrong")
@practice_page
def practice_wrong(course):
    return render_template("quiz/practice_wrong.html", course=course,
                           entries=practice.wrong_book(_learner_id(), course.id), answer_text=answer_text,
                           kind_names=KIND_NAMES)


@bp.route("/courses/<int:course_id>/practice/wrong/replay")
@practice_page
def practice_wrong_replay(course):
    """Replay the wrong questions one by one (``q``: this one; none: the first of the book)."""
    learner_id = _learner_id()
    asked = request.args.get("q")
    if asked is None:
        entry = practice.next_wrong(learner_id, course.id)
        if entry is None:
            flash(_("Your wrong-question book of this course is empty."), "success")
            return redirect(url_for("quiz.practice_wrong", course_id=course.id))
        question = entry.question
    else:
        try:
            question = practice.practice_question(course.id, _number(asked))
        except QuizError as error:
            flash(practice_error(error), "error")
            return redirect(url_for("quiz.practice_wrong", course_id=course.id))
        entry = practice.wrong_entry(learner_id, question.id)
    answer = practice.own_answer(learner_id, _answer_id(), question.id)
    if entry is None and answer is None:
        flash(_("This question is not in your wrong-question book."), "error")
        return redirect(url_for("quiz.practice_wrong", course_id=course.id))
    following = practice.next_wrong(learner_id, course.id, question.id)
    return _question_page(
        course, question, practice.WRONG, answer, wrong_entry=entry,
        next_url=url_for("quiz.practice_wrong_replay", course_id=course.id, q=following.question_id)
        if following else None,
        back_url=url_for("quiz.practice_wrong", course_id=course.id), back_label=_("Back to the wrong-question book"))


# --- favourites -----------------------------------------------------------------------------------------

@bp.route("/courses/<int:course_id>/practice/favourites")
@practice_page
def practice_favourites(course):
    favourites = practice.favourite_list(_learner_id(), course.id)
    answered = practice.answered_ids(_learner_id(), [f.question_id for f in favourites])
    return render_template("quiz/practice_favourites.html", course=course, favourites=favourites, answered=answered,
                           options_of=shown_options, answer_text=answer_text, kind_names=KIND_NAMES)


# --- search ---------------------------------------------------------------------------------------------

@bp.route("/courses/<int:course_id>/practice/search")
@practice_page
def practice_search(course):
    text, point = request.args.get("q", ""), request.args.get("point", "")
    error, found = None, []
    try:
        found = practice.search_bank(course.id, text, point)
    except QuizError as refused:
        error = practice_error(refused)
    shown = found[:practice.MAX_SEARCH_RESULTS]
    ids = [q.id for q in shown]
    return render_template("quiz/practice_search.html", course=course, text=text, point=point, error=error,
                           searched=bool(text.strip() or point.strip()), found=len(found), questions=shown,
                           answered=practice.answered_ids(_learner_id(), ids),
                           favourites=practice.favourite_ids(_learner_id(), ids),
                           points=practice.knowledge_points(course.id), options_of=shown_options,
                           answer_text=answer_text, kind_names=KIND_NAMES)


# --- mock exams -----------------------------------------------------------------------------------------

def _mock_choices() -> dict[int, list]:
    """Positions chosen per question of the paper (fields q1, q2, ...). A malformed value is kept as an
    impossible position, so that grading refuses that question by its number."""
    choices = {}
    for name in request.form:
        match = MOCK_FIELD.fullmatch(name)
        if match:
            values = request.form.getlist(name)
            choices[int(match.group(1))] = [int(v) if CHOICE.fullmatch(v) else -1 for v in values]
    return choices


@bp.route("/courses/<int:course_id>/practice/mock", methods=["GET", "POST"])
@practice_page
def practice_mock(course):
    """GET: a new paper, all its questions without keys. POST: grade it and show everything."""
    learner_id, now, secret = _learner_id(), utcnow(), current_app.config["SECRET_KEY"]
    rules = attempts.rules()
    if request.method == "POST":
        try:
            result = practice.submit_mock(request.form.get("paper", ""), _mock_choices(), learner_id, course.id, now,
                                          secret, rules.pass_score)
        except QuizError as error:
            return render_template("quiz/practice_mock.html", course=course, error=practice_error(error)), 400
        return render_template("quiz/practice_mock_result.html", course=course, result=result,
                               pass_score=rules.pass_score, options_of=shown_options, answer_text=answer_text,
                               shown_letters=practice.shown_letters, kind_names=KIND_NAMES,
                               favourites=practice.favourite_ids(learner_id, [r.question.id for r in result.rows]))
    try:
        paper = practice.compose_mock(course.id, _rng)
    except QuizError as error:
        return render_template("quiz/practice_mock.html", course=course, error=practice_error(error))
    questions = practice.mock_questions(paper, course.id)
    return render_template("quiz/practice_mock.html", course=course, paper=paper, questions=questions,
                           token=practice.sign_mock(paper, learner_id, course.id, now, secret),
                           seconds=len(paper.items) * rules.seconds_per_question, pass_score=rules.pass_score,
                           options_of=shown_options, kind_names=KIND_NAMES)
