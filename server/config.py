"""Settings: built-in defaults < ``settings.json`` in the data folder < ``SHEAF_*`` variables.

The ``config`` mapping given to :func:`server.create_app` is applied last, so tests and the command
line can pin anything without touching the environment.
"""

from __future__ import annotations

import json
import os
import secrets
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from .private_files import make_private
from .settings_table import SETTINGS, SETTINGS_BY_NAME

SETTINGS_FILE = "settings.json"
SECRET_KEY_FILE = "secret_key"  # noqa: S105 - a file name, not a secret
DATABASE_FILE = "sheaf.db"

#: Every setting's default, from the table (server/settings_table.py).
DEFAULTS: dict[str, Any] = {setting.name: setting.default for setting in SETTINGS}


class SettingsError(ValueError):
    """A setting has a value Sheaf cannot use; the message names the setting and the source."""


def default_data_dir() -> Path:
    """The per-user folder on this computer (Windows: Local, not Roaming, AppData: a roaming
    profile would copy the databases to a server at each sign-out). A folder an earlier
    Sheaf made under Roaming is kept in use: moving it is the person's choice."""
    import platformdirs  # only when no folder is given (3 ms of a start otherwise)

    local = Path(platformdirs.user_data_dir("Sheaf", appauthor=False, roaming=False))
    roaming = Path(platformdirs.user_data_dir("Sheaf", appauthor=False, roaming=True))
    if roaming != local and not local.exists() and (roaming / DATABASE_FILE).exists():
        return roaming
    return local


def resolve_data_dir(config: Mapping[str, Any] | None = None) -> Path:
    """The data folder: ``config["DATA_DIR"]``, else ``SHEAF_DATA_DIR``, else the platform's."""
    explicit = (config or {}).get("DATA_DIR") or os.environ.get("SHEAF_DATA_DIR")
    return Path(explicit).expanduser().resolve() if explicit else default_data_dir()


def ensure_data_dir(path: Path) -> Path:
    """Create the data folder for its owner only (0700; on Windows an owner-and-SYSTEM ACL,
    set when the folder is made, which what is made in it inherits)."""
    made = not path.exists()
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    if made or sys.platform != "win32":  # chmod costs nothing; icacls a process
        make_private(path, folder=True)
    return path


def load_secret_key(data_dir: Path) -> str:
    """Read the folder's secret key, creating it (mode 0600) on first use."""
    key_path = data_dir / SECRET_KEY_FILE
    try:
        fd = os.open(key_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        key = key_path.read_text(encoding="ascii", errors="replace").strip()
    else:
        key = secrets.token_hex(32)
        with os.fdopen(fd, "w", encoding="ascii") as handle:
            handle.write(key)
        make_private(key_path)
        return key
    if len(key) < 32:
        raise SettingsError(f"{key_path} is damaged; delete it and Sheaf makes a new key.")
    return key


def coerce_setting(name: str, value: Any, source: str) -> Any:
    """``value`` as the setting's type, within its bounds; ``source`` names it in the error."""
    setting = SETTINGS_BY_NAME[name]
    kind = setting.kind
    try:
        if kind is bool:
            if isinstance(value, str):
                lowered = value.strip().lower()
                if lowered not in {"1", "0", "true", "false", "yes", "no", "on", "off"}:
                    raise ValueError(value)
                value = lowered in {"1", "true", "yes", "on"}
            return bool(value)
        if kind is str:
            if not isinstance(value, str):
                raise ValueError(value)
        elif isinstance(value, bool) or (isinstance(value, float) and not value.is_integer()):
            raise ValueError(value)
        else:
            value = int(value)
    except (TypeError, ValueError):
        raise SettingsError(
            f"{name} from {source} must be {kind.__name__}, not {value!r}."
        ) from None
    if kind is str:
        if setting.high is not None and len(value) > setting.high:
            raise SettingsError(f"{name} from {source} must be at most {setting.high} characters.")
        return value
    if setting.bounds:
        low, high = setting.bounds
        if not low <= value <= high:
            raise SettingsError(
                f"{name} from {source} must be between {low} and {high}, not {value}."
            )
    return value


def read_settings_file(data_dir: Path) -> dict[str, Any]:
    path = data_dir / SETTINGS_FILE
    if not path.exists():
        return {}
    return read_settings(path, str(path))


def read_settings(path: Path, source: str) -> dict[str, Any]:
    """The settings in the JSON file at ``path``, checked (names, types, bounds); errors name
    ``source``. A restore checks a backup's settings.json with it too."""
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise SettingsError(f"Cannot read {source}: {exc}") from None
    if not isinstance(raw, dict):
        raise SettingsError(f"{source} must hold a JSON object of settings.")
    settings = {}
    for key, value in raw.items():
        name = key.upper()
        if name not in DEFAULTS:
            raise SettingsError(f"{source} names an unknown setting {key!r}.")
        settings[name] = coerce_setting(name, value, source)
    return settings


def read_environment(environ: Mapping[str, str]) -> dict[str, Any]:
    settings = {}
    for setting in SETTINGS:
        value = environ.get(setting.env)
        if value is not None:
            settings[setting.name] = coerce_setting(setting.name, value, setting.env)
    return settings


def build_settings(
    config: Mapping[str, Any] | None = None, environ: Mapping[str, str] | None = None
) -> dict[str, Any]:
    """Merge the layers and return Flask config values, data folder and secret key included."""
    config = dict(config or {})
    environ = os.environ if environ is None else environ
    data_dir = ensure_data_dir(resolve_data_dir(config))
    settings: dict[str, Any] = dict(DEFAULTS)
    settings.update(read_settings_file(data_dir))
    settings.update(read_environment(environ))
    for name, value in config.items():
        settings[name] = (
            coerce_setting(name, value, "the app config") if name in DEFAULTS else value
        )
    settings["DATA_DIR"] = data_dir
    settings.setdefault("DATABASE_PATH", data_dir / DATABASE_FILE)
    settings.setdefault("SECRET_KEY", load_secret_key(data_dir))
    return settings
