"""The home page: who is signed in, what they may do, and their recent sign-ins."""

from __future__ import annotations

from flask import Blueprint, render_template
from flask_login import current_user

from .models import AuditEvent

bp = Blueprint("home", __name__)


@bp.route("/")
def index() -> str:
    recent = (
        AuditEvent.select()
        .where(
            (AuditEvent.object_type == "user")
            & (AuditEvent.object_id == str(current_user.id))
            & AuditEvent.action.in_(["auth.sign_in", "auth.sign_in_failed", "auth.locked_out"])
        )
        .order_by(AuditEvent.id.desc())
        .limit(5)
    )
    return render_template("home.html", recent=list(recent))
