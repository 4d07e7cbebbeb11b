"""Staff pages of a course's question bank: the list, the question form, import and export as
XLSX/CSV with a template, and the paper settings with a preview. Staff of the course's institution
only (permissions.can_manage_bank); another institution's course is a 404, another role a 403."""
from dataclasses import dataclass
from random import Random

from flask import Response, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from ..core.access import role_required
from ..core.clock import utcnow
from ..core.context import current_actor
from ..core.inputs import page_number
from ..core.roles import STAFF
from ..extensions import db
from ..player.models import Course
from . import bank, papers, permissions, transfer
from .blueprint import bp
from .forms import QuestionForm, whole_number
from .messages import DRAFT_PROBLEMS, KIND_NAMES, problem_text, quiz_error, true_false_text
from .models import AUTO, KINDS, MANUAL, TRUE_FALSE, Question

PAGE_SIZE = 100
MAX_ERRORS_SHOWN = 300  # of an import's errors per row; the count says how many there are in all
XLSX_MIMETYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _own_course(course_id: int) -> Course:
    course = db.session.get(Course, course_id)
    if course is None or not permissions.can_manage_bank(current_user, course):
        abort(404)
    return course


def _own_question(course: Course, question_id: int) -> Question:
    question = db.session.get(Question, question_id)
    if question is None or question.course_id != course.id or question.retired:
        abort(404)
    return question


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


@bp.app_context_processor
def _bank_template_helpers():
    return {"quiz_bank_status": bank_status}


def answer_text(question) -> str:
    if question.kind == TRUE_FALSE:
        return true_false_text(question.answer)
    return question.answer


# --- the bank -------------------------------------------------------------------------------------

@bp.route("/courses/<int:course_id>/bank")
@role_required(STAFF)
def bank_list(course_id):
    course = _own_course(course_id)
    page = page_number()
    every = bank.bank(course.id, include_retired=True)
    active = [q for q in every if not q.retired]
    text, kind = request.args.get("q", "").strip()[:100], request.args.get("kind", "")
    kind = kind if kind in KINDS else ""
    point = request.args.get("point", "").strip()[:bank.MAX_POINT]
    found = bank.matching(active, text, kind, point, explanations=True)
    shown = found[(page - 1) * PAGE_SIZE:page * PAGE_SIZE]
    return render_template(
        "quiz/bank.html", course=course, questions=shown, found=len(found), page=page,
        has_next=len(found) > page * PAGE_SIZE, retired=[q for q in every if q.retired],
        counts=bank.counts_by_kind(course.id), bank_status=bank_status(course), kinds=KINDS, kind_names=KIND_NAMES,
        points=sorted({q.knowledge_point for q in active if q.knowledge_point}),
        query={name: value for name, value in (("q", text), ("kind", kind), ("point", point)) if value},
        answer_text=answer_text, filtered=bool(text or kind or point))


def _show_problems(form: QuestionForm, problems, group_errors: dict[str, list[str]]) -> None:
    """bank.draft_problems' (field, code) pairs under their fields; options and answer span several inputs."""
    for field_name, code in problems:
        message = str(DRAFT_PROBLEMS.get(code, code))
        target = getattr(form, field_name, None) if field_name not in ("options", "answer") else None
        if target is None:
            group_errors.setdefault(field_name, []).append(message)
        else:
            target.errors = list(target.errors) + [message]


def _question_form(course: Course, question: Question | None):
    form = QuestionForm()
    form.set_lessons(course.lessons)
    if request.method == "GET" and question is not None:
        form.fill_from(question)
    group_errors: dict[str, list[str]] = {}
    if form.validate_on_submit():
        try:
            if question is None:
                bank.add_question(course, form.draft(), utcnow(), current_actor())
                flash(_("The question was added."), "success")
            else:
                bank.edit_question(question, form.draft(), utcnow(), current_actor())
                flash(_("The question was saved."), "success")
            if request.form.get("next") == "another":
                return redirect(url_for("quiz.new_question", course_id=course.id))
            return redirect(url_for("quiz.bank_list", course_id=course.id))
        except bank.QuizError as error:
            db.session.rollback()
            if error.code == "invalid_question":
                _show_problems(form, error.details["problems"], group_errors)
            else:  # e.g. a published course's papers could no longer be composed
                group_errors["form"] = [quiz_error(error)]
    return render_template("quiz/question_form.html", course=course, form=form, question=question,
                           group_errors=group_errors)


@bp.route("/courses/<int:course_id>/bank/new", methods=["GET", "POST"])
@role_required(STAFF)
def new_question(course_id):
    return _question_form(_own_course(course_id), None)


@bp.route("/courses/<int:course_id>/bank/<int:question_id>/edit", methods=["GET", "POST"])
@role_required(STAFF)
def edit_question(course_id, question_id):
    course = _own_course(course_id)
    return _question_form(course, _own_question(course, question_id))


@bp.route("/courses/<int:course_id>/bank/<int:question_id>/remove", methods=["POST"])
@role_required(STAFF)
def remove_question(course_id, question_id):
    course = _own_course(course_id)
    question = _own_question(course, question_id)
    try:
        bank.remove_question(question, utcnow(), current_actor())
        flash(_("The question was removed from the bank."), "success")
    except bank.QuizError as error:
        db.session.rollback()
        flash(quiz_error(error), "error")
    return redirect(url_for("quiz.bank_list", course_id=course.id))


# --- import and export ----------------------------------------------------------------------------

@bp.route("/courses/<int:course_id>/bank/import", methods=["GET", "POST"])
@role_required(STAFF)
def import_questions(course_id):
    course = _own_course(course_id)
    max_bytes = current_app.config["LMS_QUIZ_MAX_IMPORT_BYTES"]
    refusal, parsed, filename = None, None, ""
    if request.method == "POST":
        upload = request.files.get("file")
        if upload is None or not upload.filename:
            refusal = _("Please choose a file.")
        else:
            filename = upload.filename
            try:
                parsed = transfer.import_questions(course, upload.stream.read(max_bytes + 1), filename, utcnow(),
                                                   current_actor(), max_bytes)
            except transfer.TransferError as error:
                refusal = transfer.transfer_error_text(error)
            if parsed is not None and not parsed.errors:
                flash(_("%(count)d questions were imported.", count=len(parsed.drafts)), "success")
                return redirect(url_for("quiz.bank_list", course_id=course.id))
    return render_template("quiz/import.html", course=course, refusal=refusal, parsed=parsed, filename=filename,
                           max_megabytes=f"{max_bytes / (1024 * 1024):g}", max_rows=transfer.MAX_ROWS,
                           max_errors=MAX_ERRORS_SHOWN, headers=transfer.HEADERS)


def _download(body: bytes, filename: str, mimetype: str) -> Response:
    # The course id, not its title, names the file: a plain ASCII name every browser keeps as it is.
    return Response(body, mimetype=mimetype, headers={"Content-Disposition": f"attachment; filename={filename}"})


@bp.route("/courses/<int:course_id>/bank/export.xlsx")
@role_required(STAFF)
def export_xlsx(course_id):
    course = _own_course(course_id)
    body = transfer.export_bank(course, "xlsx", utcnow(), current_actor())
    return _download(body, f"question-bank-{course.id}-{utcnow():%Y%m%d}.xlsx", XLSX_MIMETYPE)


@bp.route("/courses/<int:course_id>/bank/export.csv")
@role_required(STAFF)
def export_csv(course_id):
    course = _own_course(course_id)
    body = transfer.export_bank(course, "csv", utcnow(), current_actor())
    return _download(body, f"question-bank-{course.id}-{utcnow():%Y%m%d}.csv", "text/csv; charset=utf-8")


@bp.route("/courses/<int:course_id>/bank/template.xlsx")
@role_required(STAFF)
def import_template(course_id):
    _own_course(course_id)
    return _download(transfer.template_xlsx(), "question-bank-template.xlsx", XLSX_MIMETYPE)


# --- papers ---------------------------------------------------------------------------------------

def _auto_values(settings) -> dict[str, str]:
    if settings is None or settings.mode != AUTO:
        return {f"{kind}_{part}": "" for kind in KINDS for part in ("count", "points")}
    return {f"{kind}_{part}": str(getattr(settings, f"{kind}_{part}")) for kind in KINDS
            for part in ("count", "points")}


def _manual_values(course_id: int) -> dict[int, str]:
    return {item.question_id: str(item.points) for item in bank.manual_items(course_id)}


def _auto_total(values: dict[str, str]) -> int | None:
    numbers = {name: whole_number(value) for name, value in values.items()}
    if any(number is None for number in numbers.values()):
        return None
    return sum(numbers[f"{kind}_count"] * numbers[f"{kind}_points"] for kind in KINDS)


def _save_auto(course: Course, values: dict[str, str]) -> list[str]:
    numbers = {name: whole_number(value) for name, value in values.items()}
    if any(number is None for number in numbers.values()):
        return [_("Enter whole numbers from 0 to 1000.")]
    rules = papers.PaperRules(*(papers.KindRule(numbers[f"{kind}_count"], numbers[f"{kind}_points"])
                                for kind in KINDS))
    bank.save_auto_settings(course, rules, utcnow(), current_actor())
    return []


def _save_manual(course: Course, questions, values: dict[int, str]) -> list[str]:
    chosen = []
    for question in questions:
        number = whole_number(values.get(question.id))
        if number is None:
            return [_("Enter whole numbers from 0 to 1000.")]
        if number:
            chosen.append((question.id, number))
    bank.save_manual_paper(course, chosen, utcnow(), current_actor())
    return []


@bp.route("/courses/<int:course_id>/paper", methods=["GET", "POST"])
@role_required(STAFF)
def paper_settings(course_id):
    course = _own_course(course_id)
    settings = bank.settings_of(course.id)
    questions = bank.bank(course.id)
    auto_values, manual_values = _auto_values(settings), _manual_values(course.id)
    mode = settings.mode if settings is not None else AUTO
    problems: list[str] = []
    if request.method == "POST":
        mode = MANUAL if request.form.get("mode") == MANUAL else AUTO
        try:
            if mode == AUTO:
                auto_values = {name: request.form.get(name, "")[:10] for name in auto_values}
                problems = _save_auto(course, auto_values)
            else:
                manual_values = {q.id: request.form.get(f"points_{q.id}", "")[:10] for q in questions}
                problems = _save_manual(course, questions, manual_values)
        except bank.QuizError as error:
            db.session.rollback()
            problems = [quiz_error(error)]
        if not problems:
            flash(_("The paper settings were saved."), "success")
            return redirect(url_for("quiz.paper_settings", course_id=course.id))
    manual_numbers = [whole_number(value) for value in manual_values.values()]
    return render_template(
        "quiz/paper.html", course=course, settings=settings, mode=mode, problems=problems,
        auto_values=auto_values, auto_total=_auto_total(auto_values), manual_values=manual_values,
        manual_total=None if None in manual_numbers else sum(manual_numbers), questions=questions,
        counts=bank.counts_by_kind(course.id), kinds=KINDS, kind_names=KIND_NAMES, bank_status=bank_status(course),
        answer_text=answer_text, paper_total=papers.PAPER_TOTAL)


@bp.route("/courses/<int:course_id>/paper/preview")
@role_required(STAFF)
def paper_preview(course_id):
    """A sample paper as a learner would get one now, with its answers and explanations (staff only)."""
    course = _own_course(course_id)
    problems = [problem_text(code, details) for code, details in bank.paper_problems(course.id)]
    items, questions = [], {}
    settings = bank.settings_of(course.id)
    if not problems:
        if settings.mode == MANUAL:
            items = bank.manual_paper(course.id)
        else:
            items = papers.compose(bank.rules_of(settings), bank.ids_by_kind(course.id), Random())
        questions = {q.id: q for q in db.session.scalars(select(Question).where(
            Question.id.in_([item.question_id for item in items])))}
    return render_template("quiz/paper.html", course=course, preview=True, settings=settings, problems=problems,
                           items=items, questions=questions, total=sum(item.points for item in items),
                           kind_names=KIND_NAMES, answer_text=answer_text, letters="ABCDEFGH")
