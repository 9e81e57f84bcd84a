"""Compiled templates kept between starts, so a start does not compile every page it shows
(about 10 ms a template, most of the first request's time).

Jinja's own file cache, with three changes. Entries are keyed by the template's name (and
Jinja's version), not by its absolute file name, so that a cache made when the package was
built still fits wherever the package is unpacked. The package's read-only cache (made by
tools/precompile_templates.py from build.spec) is read before the data folder's
``cache/templates/``, where what had to be compiled is written for the next start. A cache
never breaks a page: a damaged entry, or any error while reading or writing one, means the
template is compiled as if there were no cache. (Jinja already throws away an entry compiled
from other source, or by another Python.)
"""

from __future__ import annotations

import contextlib
import hashlib
import os
from pathlib import Path
from typing import TYPE_CHECKING

import jinja2
from jinja2.bccache import Bucket, FileSystemBytecodeCache

if TYPE_CHECKING:
    from flask import Flask

#: Where the package carries its precompiled templates (see build.spec).
SHIPPED = Path(__file__).resolve().parent / "compiled_templates"
#: Inside the data folder.
CACHE_DIR = Path("cache") / "templates"
PATTERN = "%s.cache"


class TemplateCache(FileSystemBytecodeCache):
    def __init__(self, folder: Path, shipped: Path | None = None) -> None:
        super().__init__(str(folder), PATTERN)
        self.shipped = None if shipped is None else FileSystemBytecodeCache(str(shipped), PATTERN)

    def get_cache_key(self, name: str, filename: str | None = None) -> str:
        key = f"{name}|jinja {jinja2.__version__}"
        return hashlib.sha1(key.encode("utf-8"), usedforsecurity=False).hexdigest()

    def load_bytecode(self, bucket: Bucket) -> None:
        for tier in (self.shipped, super()):  # the package's, then the data folder's
            if tier is None:
                continue
            try:
                tier.load_bytecode(bucket)
            except Exception:  # damaged or unreadable: compile instead
                bucket.reset()
            if bucket.code is not None:
                return

    def dump_bytecode(self, bucket: Bucket) -> None:
        with contextlib.suppress(Exception):  # no cache is only slower
            os.makedirs(self.directory, mode=0o700, exist_ok=True)
            super().dump_bytecode(bucket)  # a temporary file renamed: a reader never sees half


def init_app(app: Flask) -> None:
    """Give the app's Jinja environment the cache (before anything renders)."""
    shipped = SHIPPED if SHIPPED.is_dir() else None
    app.jinja_env.bytecode_cache = TemplateCache(Path(app.config["DATA_DIR"]) / CACHE_DIR, shipped)
