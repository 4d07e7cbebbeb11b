from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import BooleanField, DateField, PasswordField, SelectField, StringField
from wtforms.validators import DataRequired, EqualTo, Length, Optional

from ..core.iddocs import DOCUMENT_TYPES
from ..core.labels import choices, label

REQUIRED = _l("This field is required.")


class RegistrationForm(FlaskForm):
    name = StringField(_l("Real name"), validators=[DataRequired(REQUIRED), Length(max=50)])
    id_type = SelectField(_l("ID document type"), choices=[])
    id_number = StringField(_l("ID document number"), validators=[DataRequired(REQUIRED), Length(max=30)])
    birth_date = DateField(_l("Date of birth"), validators=[Optional()])
    gender = SelectField(_l("Gender"), choices=[], validators=[Optional()])
    work_unit = StringField(_l("Work unit (full name)"), validators=[DataRequired(REQUIRED), Length(min=4, max=100)])
    unit_category = SelectField(_l("Unit category"), choices=[])
    position = SelectField(_l("Position"), choices=[])
    region_code = SelectField(_l("Region of the work unit"), choices=[])
    education_level = SelectField(_l("Education"), choices=[])
    password = PasswordField(_l("Password"), validators=[DataRequired(REQUIRED), Length(max=128)])
    confirm = PasswordField(_l("Repeat the password"), validators=[
        DataRequired(REQUIRED), EqualTo("password", message=_l("The two passwords do not match."))])
    photo = FileField(_l("1-inch photo (white background)"))
    id_document = FileField(_l("ID document (front and back)"))
    recommendation = FileField(_l("Unit recommendation form"))
    education = FileField(_l("Education certificate"))
    consent = BooleanField(_l("I agree that my identity data and photos are used for training records and identity checks."),
                           validators=[DataRequired(_l("Please read and accept the personal data notice."))])

    def __init__(self, regions, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.id_type.choices = [(code, label("id_type", code)) for code in DOCUMENT_TYPES]
        self.gender.choices = [("", "—")] + choices("gender")
        self.unit_category.choices = choices("unit_category")
        self.position.choices = choices("position")
        self.education_level.choices = choices("education_level")
        self.region_code.choices = regions


class MaterialForm(FlaskForm):
    kind = SelectField(_l("Material"), choices=[])
    file = FileField(_l("Image file"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.kind.choices = choices("material")
