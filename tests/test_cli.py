"""The ``sheaf`` command."""

import re
import subprocess
import sys
from datetime import UTC, datetime

from desktop.cli import main
from server import __version__
from server.models import AuditEvent, User
from tests.helpers import FAST_HASHING, make_app, make_user


def test_version(capsys):
    try:
        main(["--version"])
    except SystemExit as exit:
        assert exit.code == 0
    assert capsys.readouterr().out.strip() == f"Sheaf {__version__}"


def test_console_script_is_installed():
    result = subprocess.run(
        [sys.executable, "-m", "desktop.cli", "--version"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert result.stdout.strip() == f"Sheaf {__version__}"


def test_reset_password_from_the_command_line(tmp_path, capsys, monkeypatch):
    for name, value in FAST_HASHING.items():
        monkeypatch.setenv(f"SHEAF_{name}", str(value))
    app = make_app(tmp_path / "d")
    make_user("vera")
    User.update(locked_until=datetime(2999, 1, 1, tzinfo=UTC)).execute()
    assert main(["--data-dir", str(tmp_path / "d"), "reset-password", "VERA"]) == 0
    password = re.search(r"for vera: (\S+)", capsys.readouterr().out).group(1)
    user = User.get()
    assert user.must_change_password and not user.is_locked()
    assert app.test_client().sign_in("vera", password).status_code == 302
    assert AuditEvent.get(AuditEvent.action == "user.password_reset").actor is None


def test_reset_password_of_an_unknown_account(tmp_path, capsys):
    assert main(["--data-dir", str(tmp_path), "reset-password", "ghost"]) == 1
    assert "No account is named 'ghost'" in capsys.readouterr().err


def test_serve_refuses_a_network_address_without_tls_consent(tmp_path, capsys):
    assert main(["--data-dir", str(tmp_path), "serve", "--host", "0.0.0.0"]) == 2
    assert "Refusing to listen on 0.0.0.0" in capsys.readouterr().err


def test_bad_settings_stop_the_command_with_one_line(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("SHEAF_LOCKOUT_MINUTES", "forever")
    assert main(["--data-dir", str(tmp_path), "reset-password", "x"]) == 2
    assert capsys.readouterr().err.startswith("sheaf: LOCKOUT_MINUTES")
