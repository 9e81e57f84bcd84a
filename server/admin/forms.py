"""Admin forms."""

from flask_wtf import FlaskForm
from wtforms import DateField, SelectField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Optional

from ..models import User
from .audit import known_actions


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
            SelectChoice(action) for action in known_actions()
        ]
