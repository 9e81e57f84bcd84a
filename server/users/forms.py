"""Forms for people and roles."""

from flask_wtf import FlaskForm
from wtforms import SelectField, SelectMultipleField, StringField, TextAreaField, widgets
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length

from ..models import Role
from ..permissions import PERMISSIONS, permission_label
from .accounts import DISPLAY_NAME_MAX, LOGIN_MAX
from .roles import DESCRIPTION_MAX, NAME_MAX


def _role_choices() -> list[tuple[int, str]]:
    return [
        (role.id, role.name) for role in Role.select().order_by(Role.builtin.is_null(), Role.id)
    ]


def _permission_choice(name: str) -> str:
    """The permission's label, and what it lets one do when that says more than the label."""
    label, text = permission_label(name), PERMISSIONS[name]
    return text if text.startswith(label) else f"{label}: {text}"


class _PersonFields(FlaskForm):
    display_name = StringField(
        "Name",
        validators=[DataRequired(message="Enter the person's name."), Length(max=DISPLAY_NAME_MAX)],
        description="How Sheaf shows this person to others.",
    )
    role = SelectField(
        "Role", coerce=int, description="What this person may do. See Roles for the details."
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.role.choices = _role_choices()


class PersonCreateForm(_PersonFields):
    login = StringField(
        "Sign-in name",
        validators=[DataRequired(message="Choose a sign-in name."), Length(max=LOGIN_MAX)],
        description="Letters, digits, dots, dashes, underscores or @. Not case-sensitive.",
        render_kw={"autocomplete": "off", "autocapitalize": "none"},
    )


class PersonEditForm(_PersonFields):
    pass


class MultiCheckboxField(SelectMultipleField):
    widget = widgets.ListWidget(prefix_label=False)
    option_widget = widgets.CheckboxInput()


class RoleForm(FlaskForm):
    name = StringField(
        "Name", validators=[DataRequired(message="Name the role."), Length(max=NAME_MAX)]
    )
    description = TextAreaField(
        "Description",
        validators=[Length(max=DESCRIPTION_MAX)],
        description="Who this role is for, in a sentence.",
    )
    permissions = MultiCheckboxField(
        "Permissions",
        choices=[SelectChoice(name, _permission_choice(name)) for name in PERMISSIONS],
        validate_choice=True,
    )
