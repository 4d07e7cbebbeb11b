from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import RadioField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional


class PhotoForm(FlaskForm):
    photo = FileField(_l("Face photo"))


class AppealForm(FlaskForm):
    statement = TextAreaField(_l("Why the check should pass"),
                              validators=[DataRequired(_l("Please say why.")), Length(max=500)])


class DecisionForm(FlaskForm):
    decision = RadioField(_l("Decision"), choices=[], validators=[DataRequired(_l("Please choose a decision."))])
    note = TextAreaField(_l("Note (required when failing)"), validators=[Optional(), Length(max=300)])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.decision.choices = [("pass", _l("Same person: pass")), ("fail", _l("Not the same person, or not live: fail"))]
