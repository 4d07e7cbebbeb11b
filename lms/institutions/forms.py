from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, IntegerField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, NumberRange, Optional

REQUIRED = _l("This field is required.")


class ClassForm(FlaskForm):
    title = StringField(_l("Class name"), validators=[DataRequired(REQUIRED), Length(max=120)])
    training_type = SelectField(_l("Training type"), choices=[])
    qualification_type_id = SelectField(_l("Qualification"), coerce=int, choices=[])
    enrol_start = DateField(_l("Enrolment opens"), validators=[DataRequired(REQUIRED)])
    enrol_end = DateField(_l("Enrolment closes"), validators=[DataRequired(REQUIRED)])
    train_start = DateField(_l("Training starts"), validators=[DataRequired(REQUIRED)])
    train_end = DateField(_l("Training ends"), validators=[DataRequired(REQUIRED)])
    capacity = IntegerField(_l("Capacity"), validators=[DataRequired(REQUIRED), NumberRange(min=1, max=10000)])
    offline_location = StringField(_l("Location of the offline part"), default="",  # "", not None, when not sent
                                   validators=[Length(max=200)])
    required_online_hours = IntegerField(_l("Required online hours (leave empty for the regional rule)"),
                                         validators=[Optional(), NumberRange(min=1, max=200)])


class ApplyForm(FlaskForm):
    previous_certificate_no = StringField(_l("Existing certificate number (re-training / review)"),
                                          validators=[Optional(), Length(max=32)])


class ReturnForm(FlaskForm):
    reason = TextAreaField(_l("Reason for returning (the learner will see it)"),
                           validators=[DataRequired(_l("Please give a reason.")), Length(max=500)])
