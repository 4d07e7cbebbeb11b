"""The staff's question form and the number fields of the paper settings."""
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import RadioField, SelectField, SelectMultipleField, StringField, TextAreaField
from wtforms.widgets import CheckboxInput, ListWidget

from .bank import QuestionDraft
from .grading import LETTERS, letters_of
from .messages import KIND_NAMES
from .models import KINDS, TRUE_FALSE, Question

NO_LESSON = ""


class QuestionForm(FlaskForm):
    """Every kind in one form (the page runs no script): options A..H and the answer letters for
    choice questions, 正确/错误 for true/false. The rules are bank.draft_problems'."""

    kind = SelectField(_l("Question type"), choices=[(kind, KIND_NAMES[kind]) for kind in KINDS],
                       validate_choice=False)
    stem = TextAreaField(_l("Question"), default="")
    answer_letters = SelectMultipleField(_l("Correct options (single or multiple choice)"),
                                         choices=[(letter, letter) for letter in LETTERS], validate_choice=False,
                                         widget=ListWidget(prefix_label=False), option_widget=CheckboxInput())
    true_false_answer = RadioField(_l("Answer (true/false)"), choices=[("A", _l("The statement is true")),
                                                                    ("B", _l("The statement is false"))],
                                   validate_choice=False)
    explanation = TextAreaField(_l("Explanation"), default="")
    knowledge_point = StringField(_l("Knowledge point"), default="")
    lesson = SelectField(_l("Lesson"), choices=[], validate_choice=False, default=NO_LESSON)

    def option_fields(self):
        return [getattr(self, f"option_{letter.lower()}") for letter in LETTERS]

    def set_lessons(self, lessons) -> None:
        self.lesson.choices = [(NO_LESSON, _l("(none)"))] + [
            (str(lesson.id), f"{lesson.position}. {lesson.title}") for lesson in lessons]

    def draft(self) -> QuestionDraft:
        """What was sent, as a draft for bank.draft_problems. A lesson value that is no id becomes -1,
        which no course has, so that the rules refuse it."""
        kind = self.kind.data or ""
        options = [(field.data or "") for field in self.option_fields()]
        while options and not options[-1].strip():
            options.pop()
        if kind == TRUE_FALSE:
            answer = self.true_false_answer.data if self.true_false_answer.data in ("A", "B") else ""
        else:
            chosen = [letter for letter in (self.answer_letters.data or []) if letter in LETTERS]
            answer = letters_of(LETTERS.index(letter) for letter in chosen) if chosen else ""
        lesson = self.lesson.data or NO_LESSON
        lesson_id = None if lesson == NO_LESSON else (int(lesson) if lesson.isascii() and lesson.isdigit() and len(lesson) < 10 else -1)
        return QuestionDraft(kind=kind, stem=self.stem.data or "", options=options, answer=answer,
                             explanation=self.explanation.data or "",
                             knowledge_point=self.knowledge_point.data or "", lesson_id=lesson_id)

    def fill_from(self, question: Question) -> None:
        self.kind.data, self.stem.data = question.kind, question.stem
        for field, text in zip(self.option_fields(), question.option_list + [""] * len(LETTERS), strict=False):
            field.data = text
        if question.kind == TRUE_FALSE:
            self.true_false_answer.data = question.answer
        else:
            self.answer_letters.data = list(question.answer)
        self.explanation.data, self.knowledge_point.data = question.explanation, question.knowledge_point
        self.lesson.data = str(question.lesson_id) if question.lesson_id else NO_LESSON


for _letter in LETTERS:
    setattr(QuestionForm, f"option_{_letter.lower()}", StringField(_l("Option %(letter)s", letter=_letter),
                                                                   default=""))


MAX_NUMBER = 1000  # beyond any real count of questions or points of one question


def whole_number(value: str | None) -> int | None:
    """A whole number 0..MAX_NUMBER typed in a form (blank is 0), or None when it is not one."""
    text = (value or "").strip()
    if not text:
        return 0
    if not text.isdigit() or len(text) > 4 or not text.isascii():
        return None
    number = int(text)
    return number if number <= MAX_NUMBER else None
