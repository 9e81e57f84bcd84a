"""Sign-in, set-up, unlock and password forms."""

from flask_wtf import FlaskForm
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, EqualTo, Length

from ..users.accounts import DISPLAY_NAME_MAX, LOGIN_MAX
from .passwords import MAX_LENGTH

_password_length = Length(max=MAX_LENGTH, message=f"Use at most {MAX_LENGTH} characters.")


def new_password_field(label: str, min_length: int, autofocus: bool = False) -> PasswordField:
    return PasswordField(
        label,
        validators=[DataRequired(message="Choose a password."), _password_length],
        description=(
            f"At least {min_length} characters. Long phrases are good; common passwords are "
            "refused. No rules about digits or symbols."
        ),
        render_kw={"autocomplete": "new-password", **({"autofocus": True} if autofocus else {})},
    )


class SignInForm(FlaskForm):
    login = StringField(
        "Sign-in name",
        validators=[DataRequired(message="Enter your sign-in name."), Length(max=LOGIN_MAX)],
        render_kw={"autocomplete": "username", "autofocus": True, "autocapitalize": "none"},
    )
    password = PasswordField(
        "Password",
        validators=[DataRequired(message="Enter your password."), _password_length],
        render_kw={"autocomplete": "current-password"},
    )


class UnlockForm(FlaskForm):
    password = PasswordField(
        "Password",
        validators=[DataRequired(message="Enter your password."), _password_length],
        render_kw={"autocomplete": "current-password", "autofocus": True},
    )


def setup_form(min_length: int) -> FlaskForm:
    class SetupForm(FlaskForm):
        login = StringField(
            "Sign-in name",
            validators=[DataRequired(message="Choose a sign-in name."), Length(max=LOGIN_MAX)],
            description="Letters, digits, dots, dashes, underscores or @. Not case-sensitive.",
            render_kw={"autocomplete": "username", "autocapitalize": "none"},
        )
        display_name = StringField(
            "Your name",
            validators=[DataRequired(message="Enter your name."), Length(max=DISPLAY_NAME_MAX)],
            description="How Sheaf shows you to others, e.g. in the audit log.",
            render_kw={"autocomplete": "name", "autofocus": True},
        )
        password = new_password_field("Password", min_length)
        confirm = PasswordField(
            "Password again",
            validators=[EqualTo("password", message="The two passwords differ.")],
            render_kw={"autocomplete": "new-password"},
        )

    return SetupForm()


def password_change_form(min_length: int, ask_current: bool = True) -> FlaskForm:
    """The change-password form; without the current password right after a sign-in with a
    temporary one (the person has just typed it)."""

    class PasswordChangeForm(FlaskForm):
        if ask_current:
            current_password = PasswordField(
                "Current password",
                validators=[DataRequired(message="Enter your current password."), _password_length],
                render_kw={"autocomplete": "current-password", "autofocus": True},
            )
        new_password = new_password_field("New password", min_length, autofocus=not ask_current)
        confirm = PasswordField(
            "New password again",
            validators=[EqualTo("new_password", message="The two new passwords differ.")],
            render_kw={"autocomplete": "new-password"},
        )

    return PasswordChangeForm()


class DisplayNameForm(FlaskForm):
    display_name = StringField(
        "Your name",
        validators=[DataRequired(message="Enter your name."), Length(max=DISPLAY_NAME_MAX)],
        render_kw={"autocomplete": "name"},
    )
