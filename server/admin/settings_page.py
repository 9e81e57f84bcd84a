"""The Settings page (needs ``settings.manage``): the policies an office changes, validated by
the same rules as ``settings.json``, written there, audited, and in force from the next click.

A setting pinned by a ``SHEAF_*`` environment variable is shown but not editable here: the
variable would win again at the next start."""

from __future__ import annotations

import json
import os
from dataclasses import replace
from pathlib import Path
from typing import Any

from flask import Response, current_app, flash, redirect, render_template, url_for
from flask_wtf import FlaskForm
from wtforms import BooleanField, IntegerField
from wtforms.validators import InputRequired, NumberRange

from ..audit_trail import record
from ..config import DEFAULTS, LIMITS, SETTINGS_FILE, SettingsError, coerce_setting
from ..permissions import require_permission
from .routes import bp

MIB = 1024 * 1024
# Setting → (label, what it does). MAX_CONTENT_LENGTH is shown in MiB.
EDITABLE: dict[str, tuple[str, str]] = {
    "IDLE_LOCK_MINUTES": (
        "Idle lock (minutes)",
        "Minutes without input before a session locks and asks for the password again.",
    ),
    "LOCKOUT_THRESHOLD": (
        "Wrong passwords before lock-out",
        "Wrong passwords in a row that lock an account.",
    ),
    "LOCKOUT_MINUTES": (
        "Lock-out (minutes)",
        "How long a lock-out lasts; an admin can unlock sooner.",
    ),
    "PASSWORD_MIN_LENGTH": (
        "Shortest password (characters)",
        "For new passwords; existing ones keep working. NIST suggests 15.",
    ),
    "MAX_CONTENT_LENGTH": ("Largest upload (MiB)", "Larger files are refused before reading."),
    "PAGE_SIZE": ("Rows per page", "In datasets and long lists such as the audit log."),
    "BACKUP_AUTOMATIC": (
        "Automatic backups",
        "At start-up, when the newest backup is more than a day old.",
    ),
    "BACKUP_KEEP": ("Automatic backups kept", "Older automatic backups are deleted."),
}


def _shown(name: str, value: Any) -> Any:
    return value // MIB if name == "MAX_CONTENT_LENGTH" else value


def _stored(name: str, value: Any) -> Any:
    return value * MIB if name == "MAX_CONTENT_LENGTH" else value


def _pinned(name: str) -> bool:
    return f"SHEAF_{name}" in os.environ


def settings_form() -> FlaskForm:
    class SettingsForm(FlaskForm):
        pass

    for name, (label, help_text) in EDITABLE.items():
        pinned = {"disabled": True} if _pinned(name) else {}
        description = f"Set by SHEAF_{name}; change it there." if pinned else help_text
        if isinstance(DEFAULTS[name], bool):
            field = BooleanField(label, description=description, render_kw=pinned)
        else:
            low, high = LIMITS[name]
            low, high = _shown(name, low) or 1, _shown(name, high)
            field = IntegerField(
                label,
                validators=[
                    InputRequired(message="Enter a whole number."),
                    NumberRange(low, high, message=f"Choose from {low:,} to {high:,}."),
                ],
                description=description,
                render_kw={"min": low, "max": high, **pinned},
            )
        setattr(SettingsForm, name.lower(), field)
    return SettingsForm()


def save_settings(data_dir: Path, changes: dict[str, Any]) -> None:
    """Merge ``changes`` into settings.json (written whole, then renamed into place)."""
    path = Path(data_dir) / SETTINGS_FILE
    current = json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
    current.update({name.lower(): value for name, value in changes.items()})
    partial = path.with_name(path.name + ".partial")
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        json.dump(current, handle, indent=2, sort_keys=True)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(partial, path)


def apply_settings(changes: dict[str, Any]) -> None:
    """Put ``changes`` in force for the running app."""
    app = current_app._get_current_object()
    app.config.update(changes)
    if "PASSWORD_MIN_LENGTH" in changes:
        policy = app.extensions["sheaf.password_policy"]
        app.extensions["sheaf.password_policy"] = replace(
            policy, min_length=changes["PASSWORD_MIN_LENGTH"]
        )


@bp.route("/settings", methods=["GET", "POST"])
@require_permission("settings.manage")
def settings() -> str | Response:
    form = settings_form()
    config = current_app.config
    if form.validate_on_submit():
        changes, problems = {}, []
        for name in EDITABLE:
            if _pinned(name):
                continue
            field = getattr(form, name.lower())
            try:
                value = coerce_setting(name, _stored(name, field.data), "the Settings page")
            except SettingsError as exc:
                field.errors.append(str(exc))
                problems.append(name)
                continue
            if value != config[name]:
                changes[name] = value
        if not problems:
            if changes:
                save_settings(config["DATA_DIR"], changes)
                before = {name: config[name] for name in changes}
                apply_settings(changes)
                record(
                    "settings.changed",
                    object_type="settings",
                    details={
                        name.lower(): [_shown(name, before[name]), _shown(name, value)]
                        for name, value in changes.items()
                    },
                )
                flash(
                    f"Saved; in force now ({', '.join(EDITABLE[n][0] for n in changes)}).",
                    "success",
                )
            else:
                flash("Nothing changed.", "info")
            return redirect(url_for("admin.settings"))
    elif not form.is_submitted():
        for name in EDITABLE:
            getattr(form, name.lower()).data = _shown(name, config[name])
    return render_template("admin/settings.html", form=form)
