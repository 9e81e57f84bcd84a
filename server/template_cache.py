"""Compiled templates kept between starts, so a start does not compile every page it shows
(about 10 ms a template, most of the first request's time).

Jinja keeps a template's compiled code in a "bucket" that records the checksum of the source it
came from, and throws the code away when the source differs, so a stale entry is simply
compiled again. The entries are keyed by the template's name (and Jinja's version), not by its
absolute file name as Jinja's own file cache is, so that a cache made when the package was built
still fits wherever the package is unpacked.

Two places are read, in order: the cache shipped inside the package (made by ``build.spec``
with :func:`write_shipped`; read-only) and ``cache/templates/`` in the data folder, where what
had to be compiled is written for the next start. A cache never breaks a page: any error while
reading or writing one is ignored and the template is compiled as if there were no cache.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import sys
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

import jinja2
from jinja2.bccache import Bucket, BytecodeCache

if TYPE_CHECKING:
    from flask import Flask

#: Where the package carries its precompiled templates (see build.spec).
SHIPPED = Path(__file__).resolve().parent / "compiled_templates"
#: Inside the data folder.
CACHE_DIR = Path("cache") / "templates"


class TemplateCache(BytecodeCache):
    def __init__(self, folder: Path | None, shipped: Path | None = None) -> None:
        self.folder = folder
        self.shipped = shipped

    def get_cache_key(self, name: str, filename: str | None = None) -> str:
        key = f"{name}|jinja {jinja2.__version__}"
        return hashlib.sha1(key.encode("utf-8"), usedforsecurity=False).hexdigest()

    def load_bytecode(self, bucket: Bucket) -> None:
        for folder in (self.shipped, self.folder):
            if folder is None:
                continue
            try:
                with open(folder / f"{bucket.key}.cache", "rb") as handle:
                    bucket.load_bytecode(handle)  # checks the source's checksum
            except Exception:  # missing, unreadable or damaged: compile instead
                bucket.reset()
            if bucket.code is not None:
                return

    def dump_bytecode(self, bucket: Bucket) -> None:
        if self.folder is not None:
            with contextlib.suppress(Exception):  # no cache is only slower
                _write(self.folder, bucket)


def _write(folder: Path, bucket: Bucket) -> None:
    """Write the entry under a temporary name, then rename it: a reader never sees half."""
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    fd, temporary = tempfile.mkstemp(dir=folder, suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            bucket.write_bytecode(handle)
        os.replace(temporary, folder / f"{bucket.key}.cache")
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise


def init_app(app: Flask) -> None:
    """Give the app's Jinja environment the cache (before anything renders)."""
    shipped = SHIPPED if SHIPPED.is_dir() else None
    app.jinja_env.bytecode_cache = TemplateCache(Path(app.config["DATA_DIR"]) / CACHE_DIR, shipped)


def write_shipped(app: Flask, target: Path) -> int:
    """Compile every template of ``app`` into ``target`` (the package's cache); the count."""
    target.mkdir(parents=True, exist_ok=True)
    environment = app.jinja_env
    cache = TemplateCache(target)
    names = environment.list_templates()
    for name in names:
        source, filename, _ = environment.loader.get_source(environment, name)
        bucket = Bucket(environment, cache.get_cache_key(name), cache.get_source_checksum(source))
        bucket.code = environment.compile(source, name, filename)
        _write(target, bucket)
    return len(names)


def main(argv: list[str]) -> int:
    """``python -m server.template_cache TARGET``: run by build.spec."""
    from . import create_app

    target = Path(argv[0]).resolve()
    with tempfile.TemporaryDirectory() as data:
        count = write_shipped(create_app({"DATA_DIR": data}), target)
    print(f"{count} templates compiled into {target}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
