from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import IntegerField, SelectField, StringField
from wtforms.validators import DataRequired, Length, NumberRange

REQUIRED = _l("This field is required.")


class InstitutionForm(FlaskForm):
    name = StringField(_l("Institution name"), validators=[DataRequired(REQUIRED), Length(min=4, max=120)])
    region_code = SelectField(_l("Region"), choices=[])


class HoursRuleForm(FlaskForm):
    total_hours = IntegerField(_l("Hours"), validators=[DataRequired(REQUIRED), NumberRange(min=1, max=500)])


class RegionSplitForm(FlaskForm):
    region_code = SelectField(_l("Region"), choices=[])
    training_type = SelectField(_l("Training type"), choices=[])
    online_hours = IntegerField(_l("Online hours"), validators=[NumberRange(min=0, max=500)])
    offline_hours = IntegerField(_l("Offline hours"), validators=[NumberRange(min=0, max=500)])
