"""The Settings page: validated like settings.json, written there, audited, in force at once."""

from __future__ import annotations

import io
import json
import re

import pytest
from markupsafe import escape

from server.db import database
from server.models import AuditEvent
from server.settings_table import SETTINGS, by_section
from server.users.accounts import AccountError
from tests.helpers import make_app, make_user, signed_in

FORM = {
    "idle_lock_minutes": "15",
    "lockout_threshold": "5",
    "lockout_minutes": "15",
    "password_min_length": "8",
    "max_content_length": "1024",
    "page_size": "50",
    "backup_automatic": "y",
    "backup_keep": "7",
    "history_keep_versions": "50",
    "history_keep_days": "7",
    "type_threshold": "95",
    "day_first": "y",
    "missing_markers": "NA, N/A, #N/A, n.a., -, --, null, none, missing, nan, ?",
}


@pytest.fixture
def admin_app(tmp_path, monkeypatch):
    for name in FORM:
        monkeypatch.delenv(f"SHEAF_{name.upper()}", raising=False)
    app = make_app(tmp_path / "data")
    make_user("ada", "admin")
    return app


def test_the_page_shows_the_settings_in_force(admin_app):
    page = signed_in(admin_app, "ada").get("/settings").get_data(as_text=True)
    assert 'name="idle_lock_minutes" required type="number" value="15"' in page
    assert 'name="max_content_length" required type="number" value="1024"' in page  # MiB


ON_PAGE = [setting for setting in SETTINGS if setting.on_page]


def test_the_page_is_the_table_of_settings(admin_app):
    """Fields, order, sections, labels, help and bounds all come from server.settings_table."""
    page = signed_in(admin_app, "ada").get("/settings").get_data(as_text=True)
    start = page.index('<form method="post" class="panel')
    form = page[start : page.index("</form>", start)]
    names = re.findall(r'<input [^>]*name="(\w+)"', form)
    assert names == ["csrf_token"] + [setting.key for setting in ON_PAGE] == ["csrf_token", *FORM]
    assert re.findall(r"<legend>(.*?)</legend>", form) == [
        str(escape(title)) for title in by_section(ON_PAGE)
    ]
    for setting in ON_PAGE:
        tag = re.search(rf'<input [^>]*name="{setting.key}"[^>]*>', form).group()
        assert f"{escape(setting.label)}</" in form, setting.name
        assert f'id="{setting.key}-help">{escape(setting.help)}</p>' in form, setting.name
        if setting.kind is str:
            assert f'value="{escape(setting.default)}"' in tag, setting.name
        elif setting.bounds:
            low, high = setting.bounds
            scale = setting.page_scale
            assert f'min="{-(-low // scale)}"' in tag and f'max="{high // scale}"' in tag
            assert f'value="{setting.default // scale}"' in tag
        else:
            assert "checked" in tag if setting.default else "checked" not in tag


def test_a_change_is_saved_audited_and_in_force_at_once(admin_app):
    admin = signed_in(admin_app, "ada")
    answer = admin.post_form(
        "/settings",
        {**FORM, "idle_lock_minutes": "5", "password_min_length": "12", "max_content_length": "2"},
    )
    assert answer.status_code == 302
    assert admin_app.config["IDLE_LOCK_MINUTES"] == 5
    assert admin_app.config["MAX_CONTENT_LENGTH"] == 2 * 1024 * 1024
    stored = json.loads((admin_app.config["DATA_DIR"] / "settings.json").read_text())
    assert stored == {
        "idle_lock_minutes": 5,
        "password_min_length": 12,
        "max_content_length": 2 * 1024 * 1024,
    }
    # In force now: an upload over the new limit is refused before it is read.
    big = {"file": (io.BytesIO(b"x" * (3 * 1024 * 1024)), "big.csv")}
    assert admin.post_form("/import", big).status_code == 413
    with admin_app.app_context(), database.connection_context():
        event = AuditEvent.select().where(AuditEvent.action == "settings.changed").get()
    assert event.details_dict["idle_lock_minutes"] == [15, 5]
    assert event.details_dict["password_min_length"] == [8, 12]
    # And they survive a restart.
    assert make_app(admin_app.config["DATA_DIR"]).config["IDLE_LOCK_MINUTES"] == 5


def test_the_new_minimum_length_applies_to_new_passwords(admin_app):
    admin = signed_in(admin_app, "ada")
    admin.post_form("/settings", {**FORM, "password_min_length": "20"})
    policy = admin_app.extensions["sheaf.password_policy"]
    with pytest.raises(AccountError, match="20"):
        policy.check("nineteen characters")


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("idle_lock_minutes", "0", "Choose from 1 to 1,440."),
        ("password_min_length", "7", "Choose from 8 to 64."),
        ("page_size", "lots", "Not a valid integer value."),
        ("backup_keep", "", "Enter a whole number."),
    ],
)
def test_bad_values_are_refused_and_change_nothing(admin_app, field, value, message):
    admin = signed_in(admin_app, "ada")
    answer = admin.post_form("/settings", {**FORM, field: value, "lockout_minutes": "30"})
    assert answer.status_code == 200
    assert message in answer.get_data(as_text=True)
    assert admin_app.config["LOCKOUT_MINUTES"] == 15
    assert not (admin_app.config["DATA_DIR"] / "settings.json").exists()


def test_a_setting_pinned_by_the_environment_is_not_editable(tmp_path, monkeypatch):
    monkeypatch.setenv("SHEAF_PAGE_SIZE", "25")
    app = make_app(tmp_path / "data")
    make_user("ada", "admin")
    admin = signed_in(app, "ada")
    page = admin.get("/settings").get_data(as_text=True)
    assert "Set by SHEAF_PAGE_SIZE" in page
    admin.post_form("/settings", {**FORM, "page_size": "100"})
    assert app.config["PAGE_SIZE"] == 25
