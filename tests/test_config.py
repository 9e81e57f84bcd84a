"""Settings: defaults < settings.json in the data folder < SHEAF_* variables < create_app()."""

import json
import os
import stat

import pytest

from server.config import DEFAULTS, SettingsError, build_settings, default_data_dir


def test_defaults_apply_when_nothing_is_set(tmp_path):
    settings = build_settings({"DATA_DIR": tmp_path / "d"}, environ={})
    assert settings["IDLE_LOCK_MINUTES"] == 15 and settings["LOCKOUT_THRESHOLD"] == 5
    assert settings["LOCKOUT_MINUTES"] == 15 and settings["PASSWORD_MIN_LENGTH"] == 8


def test_each_layer_overrides_the_one_below(tmp_path):
    data = tmp_path / "d"
    data.mkdir()
    (data / "settings.json").write_text(
        json.dumps({"idle_lock_minutes": 30, "lockout_minutes": 20})
    )
    settings = build_settings({"DATA_DIR": data}, environ={"SHEAF_IDLE_LOCK_MINUTES": "45"})
    assert settings["LOCKOUT_MINUTES"] == 20  # file over default
    assert settings["IDLE_LOCK_MINUTES"] == 45  # environment over file
    settings = build_settings(
        {"DATA_DIR": data, "IDLE_LOCK_MINUTES": 5}, environ={"SHEAF_IDLE_LOCK_MINUTES": "45"}
    )
    assert settings["IDLE_LOCK_MINUTES"] == 5  # explicit config over everything


def test_data_dir_comes_from_the_environment_or_the_platform(tmp_path, monkeypatch):
    monkeypatch.setenv("SHEAF_DATA_DIR", str(tmp_path / "from-env"))
    assert build_settings()["DATA_DIR"] == tmp_path / "from-env"
    monkeypatch.delenv("SHEAF_DATA_DIR")
    assert default_data_dir().name == "Sheaf"


@pytest.mark.skipif(os.name != "posix", reason="POSIX file modes")
def test_data_dir_is_private_and_the_secret_key_stays(tmp_path):
    first = build_settings({"DATA_DIR": tmp_path / "d"}, environ={})
    assert stat.S_IMODE((tmp_path / "d").stat().st_mode) == 0o700
    key_file = tmp_path / "d" / "secret_key"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert len(first["SECRET_KEY"]) == 64
    assert (
        build_settings({"DATA_DIR": tmp_path / "d"}, environ={})["SECRET_KEY"]
        == first["SECRET_KEY"]
    )
    assert (
        build_settings({"DATA_DIR": tmp_path / "e"}, environ={})["SECRET_KEY"]
        != first["SECRET_KEY"]
    )


@pytest.mark.parametrize(
    ("source", "message"),
    [
        (
            {"SHEAF_LOCKOUT_THRESHOLD": "five"},
            "LOCKOUT_THRESHOLD from SHEAF_LOCKOUT_THRESHOLD must be int",
        ),
        ({"SHEAF_PASSWORD_MIN_LENGTH": "4"}, "must be between 8 and 64"),
        ({"SHEAF_IDLE_LOCK_MINUTES": "0"}, "must be between 1 and 1440"),
    ],
)
def test_bad_environment_values_are_refused_with_a_message(tmp_path, source, message):
    with pytest.raises(SettingsError, match=message):
        build_settings({"DATA_DIR": tmp_path}, environ=source)


def test_bad_settings_files_are_refused_with_a_message(tmp_path):
    (tmp_path / "settings.json").write_text("{not json")
    with pytest.raises(SettingsError, match="Cannot read"):
        build_settings({"DATA_DIR": tmp_path}, environ={})
    (tmp_path / "settings.json").write_text('{"colour": "blue"}')
    with pytest.raises(SettingsError, match="unknown setting 'colour'"):
        build_settings({"DATA_DIR": tmp_path}, environ={})
    (tmp_path / "settings.json").write_text('{"lockout_minutes": 2.5}')
    with pytest.raises(SettingsError, match="must be int"):
        build_settings({"DATA_DIR": tmp_path}, environ={})


def test_every_setting_is_documented():
    from pathlib import Path

    text = (Path(__file__).parent.parent / "docs" / "settings.md").read_text()
    for name in DEFAULTS:
        assert name.lower() in text and f"SHEAF_{name}" in text, name
