"""Compiled templates kept between starts: in the data folder, and shipped with the package.
A cache can only make a page faster, never break it."""

from __future__ import annotations

from pathlib import Path

import pytest
from jinja2.bccache import Bucket

from server import template_cache
from server.template_cache import CACHE_DIR, TemplateCache, write_shipped

from .conftest import make_app


def _setup_page(app) -> str:
    response = app.test_client().get("/setup")
    assert response.status_code == 200
    text = response.get_data(as_text=True)
    assert "csrf-token" in text
    return text


def _no_compiling(app, monkeypatch) -> None:
    def refuse(*args, **kwargs):
        raise AssertionError("a template was compiled")

    monkeypatch.setattr(app.jinja_env, "compile", refuse)


def _entries(folder: Path) -> list[Path]:
    return sorted(folder.glob("*.cache")) if folder.is_dir() else []


@pytest.fixture(autouse=True)
def no_shipped_cache(monkeypatch, tmp_path):
    monkeypatch.setattr(template_cache, "SHIPPED", tmp_path / "no-shipped-cache")


def test_compiled_templates_are_written_to_the_data_folder_and_used_next_start(
    tmp_path, monkeypatch
):
    data = tmp_path / "data"
    first = _setup_page(make_app(data))
    folder = data / CACHE_DIR
    assert len(_entries(folder)) >= 2  # the page and the layout it extends
    assert not list(folder.glob("*.tmp"))
    assert folder.stat().st_mode & 0o777 == 0o700

    again = make_app(data)
    _no_compiling(again, monkeypatch)
    assert _setup_page(again).split('name="csrf-token"')[0] == first.split('name="csrf-token"')[0]


def test_the_key_is_the_template_name_not_where_the_file_is():
    cache = TemplateCache(None)
    here = cache.get_cache_key("auth/setup.html", "/opt/sheaf/server/templates/auth/setup.html")
    there = cache.get_cache_key(
        "auth/setup.html", "/home/me/Sheaf/_internal/server/templates/auth/setup.html"
    )
    assert here == there != cache.get_cache_key("auth/sign_in.html", None)


@pytest.mark.parametrize(
    "damage",
    [
        b"",
        b"not a cache at all",
        b"j2",  # the magic cut short
        "truncated",
        "stale",
    ],
)
def test_a_damaged_or_stale_entry_is_ignored_and_replaced(tmp_path, monkeypatch, damage):
    data = tmp_path / "data"
    app = make_app(data)
    _setup_page(app)
    folder = data / CACHE_DIR
    entries = _entries(folder)
    for path in entries:
        if damage == "truncated":
            path.write_bytes(path.read_bytes()[:60])
        elif damage == "stale":  # compiled from another version of the template
            bucket = Bucket(app.jinja_env, path.stem, "0" * 40)
            bucket.code = app.jinja_env.compile("<p>old version</p>")
            with open(path, "wb") as handle:
                bucket.write_bytecode(handle)
        else:
            path.write_bytes(damage)

    assert "old version" not in _setup_page(make_app(data))
    assert _entries(folder) == entries
    again = make_app(data)  # the entries were written anew, whole
    _no_compiling(again, monkeypatch)
    _setup_page(again)


def test_a_data_folder_where_the_cache_cannot_be_written_still_renders(tmp_path):
    data = tmp_path / "data"
    make_app(data)
    (data / "cache").write_text("a file where the cache folder would go")
    _setup_page(make_app(data))
    assert (data / "cache").is_file()


def test_the_shipped_cache_is_used_when_present(tmp_path, monkeypatch):
    shipped = tmp_path / "shipped"
    assert write_shipped(make_app(tmp_path / "build"), shipped) >= 30
    monkeypatch.setattr(template_cache, "SHIPPED", shipped)
    data = tmp_path / "data"
    app = make_app(data)
    _no_compiling(app, monkeypatch)
    _setup_page(app)
    assert not _entries(data / CACHE_DIR)  # nothing needed compiling, nothing written


def test_a_damaged_shipped_cache_falls_back_to_compiling(tmp_path, monkeypatch):
    shipped = tmp_path / "shipped"
    write_shipped(make_app(tmp_path / "build"), shipped)
    for path in _entries(shipped):
        path.write_bytes(path.read_bytes()[:40])
    monkeypatch.setattr(template_cache, "SHIPPED", shipped)
    data = tmp_path / "data"
    _setup_page(make_app(data))
    assert _entries(data / CACHE_DIR)  # compiled, and kept in the data folder instead
