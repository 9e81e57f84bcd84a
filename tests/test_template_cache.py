"""Compiled templates kept between starts: in the data folder, and shipped with the package.
A cache can only make a page faster, never break it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from jinja2.bccache import Bucket

from server import template_cache
from server.template_cache import CACHE_DIR, TemplateCache
from tests.helpers import make_app
from tools.precompile_templates import precompile


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
    if os.name == "posix":  # modes mean nothing on Windows
        assert folder.stat().st_mode & 0o777 == 0o700

    again = make_app(data)
    _no_compiling(again, monkeypatch)
    assert _setup_page(again).split('name="csrf-token"')[0] == first.split('name="csrf-token"')[0]


def test_the_key_is_the_template_name_not_where_the_file_is(tmp_path):
    cache = TemplateCache(tmp_path)
    here = cache.get_cache_key("auth/setup.html", "/opt/sheaf/server/templates/auth/setup.html")
    there = cache.get_cache_key(
        "auth/setup.html", "/home/me/Sheaf/_internal/server/templates/auth/setup.html"
    )
    assert here == there != cache.get_cache_key("auth/sign_in.html", None)


DAMAGES = [
    b"",
    b"not a cache at all",
    b"j2",  # the magic cut short
    "truncated",
    "stale",
]


def _damage(app, path: Path, damage: bytes | str) -> None:
    if damage == "truncated":
        path.write_bytes(path.read_bytes()[:60])
    elif damage == "stale":  # compiled from another version of the template
        bucket = Bucket(app.jinja_env, path.stem, "0" * 40)
        bucket.code = app.jinja_env.compile("<p>old version</p>")
        with open(path, "wb") as handle:
            bucket.write_bytecode(handle)
    else:
        path.write_bytes(damage)


@pytest.mark.parametrize("damage", DAMAGES)
def test_a_damaged_or_stale_entry_is_ignored_and_replaced(tmp_path, monkeypatch, damage):
    data = tmp_path / "data"
    app = make_app(data)
    _setup_page(app)
    folder = data / CACHE_DIR
    entries = _entries(folder)
    for path in entries:
        _damage(app, path, damage)

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
    assert precompile(make_app(tmp_path / "build"), shipped) >= 30
    monkeypatch.setattr(template_cache, "SHIPPED", shipped)
    data = tmp_path / "data"
    app = make_app(data)
    _no_compiling(app, monkeypatch)
    _setup_page(app)
    assert not _entries(data / CACHE_DIR)  # nothing needed compiling, nothing written


def test_the_shipped_cache_is_read_before_the_data_folders(tmp_path, monkeypatch):
    shipped = tmp_path / "shipped"
    precompile(make_app(tmp_path / "build"), shipped)
    monkeypatch.setattr(template_cache, "SHIPPED", shipped)
    app = make_app(tmp_path / "data")
    environment, cache = app.jinja_env, app.jinja_env.bytecode_cache
    source, filename, _ = environment.loader.get_source(environment, "auth/setup.html")
    bucket = cache.get_bucket(environment, "auth/setup.html", filename, source)
    bucket.code = environment.compile("<p>from the data folder</p>")
    cache.dump_bytecode(bucket)  # fits the source as well as the shipped entry does
    assert len(_entries(tmp_path / "data" / CACHE_DIR)) == 1
    assert "from the data folder" not in _setup_page(app)


@pytest.mark.parametrize("damage", DAMAGES)
def test_a_damaged_or_stale_shipped_cache_falls_back_to_compiling(tmp_path, monkeypatch, damage):
    shipped = tmp_path / "shipped"
    build = make_app(tmp_path / "build")
    precompile(build, shipped)
    for path in _entries(shipped):
        _damage(build, path, damage)
    monkeypatch.setattr(template_cache, "SHIPPED", shipped)
    data = tmp_path / "data"
    assert "old version" not in _setup_page(make_app(data))
    assert _entries(data / CACHE_DIR)  # compiled, and kept in the data folder instead
    again = make_app(data)
    _no_compiling(again, monkeypatch)
    _setup_page(again)


def test_the_build_compiles_every_template_under_its_name(tmp_path):
    app = make_app(tmp_path / "build")
    shipped = tmp_path / "shipped"
    (shipped / "left-over.cache").parent.mkdir()
    (shipped / "left-over.cache").write_bytes(b"from an older build")
    names = app.jinja_env.list_templates()
    assert precompile(app, shipped) == len(names)
    key = TemplateCache(shipped).get_cache_key
    assert {path.name for path in _entries(shipped)} == {f"{key(name)}.cache" for name in names}


def test_the_build_fails_when_a_template_was_not_written(tmp_path, monkeypatch):
    monkeypatch.setattr(TemplateCache, "dump_bytecode", lambda self, bucket: None)
    with pytest.raises(RuntimeError, match="templates but 0 compiled"):
        precompile(make_app(tmp_path / "build"), tmp_path / "shipped")


def test_the_build_step_runs_as_build_spec_runs_it(tmp_path):
    """build.spec: ``python -m tools.precompile_templates TARGET`` from the checkout."""
    root = Path(__file__).resolve().parent.parent
    assert "tools.precompile_templates" in (root / "build.spec").read_text()
    target = tmp_path / "shipped"
    done = subprocess.run(
        [sys.executable, "-m", "tools.precompile_templates", str(target)],
        cwd=root,
        capture_output=True,
        text=True,
        check=True,
    )
    assert f"templates compiled into {target}" in done.stdout
    assert len(_entries(target)) >= 30
