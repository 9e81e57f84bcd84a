"""The table of settings: what config, the Settings page and the docs rely on it to hold."""

from __future__ import annotations

import pytest

from server.config import DEFAULTS, SettingsError, coerce_setting
from server.settings_table import SETTINGS, SETTINGS_BY_NAME

WHOLE_NUMBERS = [setting for setting in SETTINGS if setting.kind is int]
TEXTS = [setting for setting in SETTINGS if setting.kind is str]


def test_names_are_unique_and_upper_case():
    assert len(SETTINGS_BY_NAME) == len(SETTINGS)
    assert all(setting.name == setting.name.upper() for setting in SETTINGS)


def test_every_setting_is_a_yes_or_no_a_whole_number_or_text_with_a_label_and_help():
    for setting in SETTINGS:
        assert setting.kind in (bool, int, str), setting.name
        assert setting.label and setting.section, setting.name
        assert setting.help.endswith("."), setting.name


@pytest.mark.parametrize("setting", WHOLE_NUMBERS, ids=lambda setting: setting.name)
def test_whole_numbers_are_bounded_around_their_default(setting):
    low, high = setting.bounds
    assert low <= setting.default <= high
    assert coerce_setting(setting.name, low, "a test") == low
    assert coerce_setting(setting.name, str(high), "a test") == high
    for outside in (low - 1, high + 1):
        with pytest.raises(SettingsError, match=f"between {low} and {high}"):
            coerce_setting(setting.name, outside, "a test")


def test_yes_or_no_settings_have_no_bounds():
    for setting in SETTINGS:
        if setting.kind is bool:
            assert setting.bounds is None and setting.page_scale == 1, setting.name


def test_the_page_can_show_each_default_and_a_range_in_its_unit():
    for setting in SETTINGS:
        if setting.on_page and setting.kind is int:
            low, high = setting.bounds
            scale = setting.page_scale
            assert setting.default % scale == 0, setting.name
            assert -(-low // scale) <= high // scale, setting.name


def test_config_defaults_are_the_table():
    assert list(DEFAULTS.items()) == [(setting.name, setting.default) for setting in SETTINGS]


@pytest.mark.parametrize("setting", TEXTS, ids=lambda setting: setting.name)
def test_texts_are_bounded_in_length(setting):
    assert len(setting.default) <= setting.high
    assert coerce_setting(setting.name, "x" * setting.high, "a test") == "x" * setting.high
    with pytest.raises(SettingsError, match=f"at most {setting.high} characters"):
        coerce_setting(setting.name, "x" * (setting.high + 1), "a test")
    with pytest.raises(SettingsError):
        coerce_setting(setting.name, 5, "a test")
