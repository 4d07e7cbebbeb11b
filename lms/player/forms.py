from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import DateField, DecimalField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, NumberRange

REQUIRED = _l("This field is required.")


class CourseForm(FlaskForm):
    title = StringField(_l("Course title"), validators=[DataRequired(REQUIRED), Length(max=120)])
    category = StringField(_l("Category"), default="", validators=[Length(max=60)])  # "", not None, when not sent
    nominal_hours = DecimalField(_l("Nominal hours"), places=1, validators=[
        DataRequired(REQUIRED), NumberRange(min=0.5, max=200)])
    version = StringField(_l("Version"), default="1.0", validators=[DataRequired(REQUIRED), Length(max=30)])
    last_reviewed_on = DateField(_l("Last reviewed on"), validators=[DataRequired(REQUIRED)])
    description = TextAreaField(_l("Description"), default="", validators=[Length(max=2000)])


class LessonForm(FlaskForm):
    title = StringField(_l("Lesson title"), validators=[DataRequired(REQUIRED), Length(max=120)])
    video = FileField(_l("Video file"))


class CurriculumForm(FlaskForm):
    course_id = SelectField(_l("Course"), coerce=int, choices=[])
