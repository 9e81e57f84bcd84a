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

from flask import Blueprint, Response, current_app, flash, redirect, render_template, url_for
from flask_wtf import FlaskForm
from wtforms import BooleanField, Field, IntegerField, StringField
from wtforms.validators import InputRequired, Length, NumberRange

from ..audit_trail import record
from ..config import SETTINGS_FILE, SettingsError, coerce_setting
from ..permissions import require_permission
from ..settings_table import SETTINGS, Setting, by_section
from ..sqlite_files import sync

bp = Blueprint("settings", __name__)

#: The settings this page edits, in the table's order.
EDITABLE: tuple[Setting, ...] = tuple(setting for setting in SETTINGS if setting.on_page)


def _shown(setting: Setting, value: Any) -> Any:
    return value // setting.page_scale if setting.page_scale != 1 else value


def _stored(setting: Setting, value: Any) -> Any:
    return value * setting.page_scale if setting.page_scale != 1 else value


def _pinned(setting: Setting) -> bool:
    return setting.env in os.environ


def _field(setting: Setting) -> Field:
    pinned = {"disabled": True} if _pinned(setting) else {}
    description = f"Set by {setting.env}; change it there." if pinned else setting.help
    if setting.kind is bool:
        return BooleanField(setting.label, description=description, render_kw=pinned)
    if setting.kind is str:
        return StringField(
            setting.label,
            validators=[Length(max=setting.high, message=f"At most {setting.high} characters.")],
            description=description,
            render_kw=pinned,
        )
    low, high = setting.bounds
    # The smallest and largest whole numbers the page's unit allows.
    low, high = -(-low // setting.page_scale), high // setting.page_scale
    return IntegerField(
        setting.label,
        validators=[
            InputRequired(message="Enter a whole number."),
            NumberRange(low, high, message=f"Choose from {low:,} to {high:,}."),
        ],
        description=description,
        render_kw={"min": low, "max": high, **pinned},
    )


def settings_form() -> FlaskForm:
    """A form with a field per editable setting, named by its settings.json key."""

    class SettingsForm(FlaskForm):
        pass

    for setting in EDITABLE:
        setattr(SettingsForm, setting.key, _field(setting))
    return SettingsForm()


def save_settings(data_dir: Path, changes: dict[str, Any]) -> None:
    """Merge ``changes`` into settings.json (written whole, then renamed into place)."""
    path = Path(data_dir) / SETTINGS_FILE
    current = json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
    current.update({name.lower(): value for name, value in changes.items()})
    partial = path.with_name(path.name + ".partial")
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as handle:  # same bytes everywhere
        json.dump(current, handle, indent=2, sort_keys=True)
        handle.flush()
        sync(handle.fileno())
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
        for setting in EDITABLE:
            if _pinned(setting):
                continue
            field = form[setting.key]
            try:
                value = coerce_setting(
                    setting.name, _stored(setting, field.data), "the Settings page"
                )
            except SettingsError as exc:
                field.errors.append(str(exc))
                problems.append(setting.name)
                continue
            if value != config[setting.name]:
                changes[setting.name] = value
        if not problems:
            if changes:
                save_settings(config["DATA_DIR"], changes)
                before = {name: config[name] for name in changes}
                apply_settings(changes)
                changed = [setting for setting in EDITABLE if setting.name in changes]
                record(
                    "settings.changed",
                    object_type="settings",
                    details={
                        setting.key: [
                            _shown(setting, before[setting.name]),
                            _shown(setting, changes[setting.name]),
                        ]
                        for setting in changed
                    },
                )
                labels = ", ".join(setting.label for setting in changed)
                flash(f"Saved; in force now ({labels}).", "success")
            else:
                flash("Nothing changed.", "info")
            return redirect(url_for("settings.settings"))
    elif not form.is_submitted():
        for setting in EDITABLE:
            form[setting.key].data = _shown(setting, config[setting.name])
    sections = {
        title: [form[setting.key] for setting in group]
        for title, group in by_section(EDITABLE).items()
    }
    return render_template("admin/settings.html", form=form, sections=sections)
