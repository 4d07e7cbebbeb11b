from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import PasswordField, SelectField, StringField
from wtforms.validators import DataRequired, EqualTo, Length, Regexp

REQUIRED = _l("This field is required.")


class LoginForm(FlaskForm):
    identifier = StringField(_l("Username or ID number"), validators=[DataRequired(REQUIRED), Length(max=64)])
    password = PasswordField(_l("Password"), validators=[DataRequired(REQUIRED), Length(max=128)])


class SetPasswordForm(FlaskForm):
    password = PasswordField(_l("New password"), validators=[DataRequired(REQUIRED), Length(max=128)])
    confirm = PasswordField(_l("Repeat the new password"), validators=[
        DataRequired(REQUIRED), EqualTo("password", message=_l("The two passwords do not match."))])


class AccountForm(FlaskForm):
    username = StringField(_l("Username"), validators=[
        DataRequired(REQUIRED), Length(min=3, max=32),
        Regexp(r"^[a-zA-Z][a-zA-Z0-9_.-]+$", message=_l("Use letters, digits, dot, dash or underscore, starting with a letter."))])
    display_name = StringField(_l("Name"), validators=[DataRequired(REQUIRED), Length(max=64)])
    role = SelectField(_l("Role"), choices=[])
    institution_id = SelectField(_l("Institution"), choices=[], coerce=int)
    region_code = SelectField(_l("Region"), choices=[])
