"""Admin forms."""

from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import BooleanField, DateField, PasswordField, SelectField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Optional

from ..models import User
from .audit import known_actions
from .audit_sentences import action_label


class AuditFilterForm(FlaskForm):
    """Read from the query string: a bookmarkable view of the log, so no CSRF token."""

    class Meta:
        csrf = False

    person = SelectField("Person", coerce=int, default=0)
    action = SelectField("Action", default="")
    since = DateField("From", validators=[Optional()])
    until = DateField("To (inclusive)", validators=[Optional()])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        people = User.select(User.id, User.display_name, User.login).order_by(User.display_name)
        self.person.choices = [SelectChoice(0, "Anyone")] + [
            SelectChoice(u.id, f"{u.display_name} ({u.login})") for u in people
        ]
        self.action.choices = [SelectChoice("", "Any action")] + [
            SelectChoice(action, action_label(action)) for action in known_actions()
        ]


class RestoreForm(FlaskForm):
    """Restoring replaces everyone's data: the person confirms and gives their password."""

    confirm = BooleanField(
        "I understand that every dataset, account and setting is replaced by the backup's",
        validators=[DataRequired(message="Tick the box to confirm.")],
    )
    password = PasswordField(
        "Your password",
        validators=[DataRequired(message="Enter your password.")],
        render_kw={"autocomplete": "current-password"},
    )


class BackupUploadForm(FlaskForm):
    file = FileField(
        "Backup file",
        validators=[FileRequired(message="Choose a backup file (.zip).")],
        description="A backup made by Sheaf: it is checked before anything is restored.",
        render_kw={"accept": ".zip"},
    )
