"""Compile every template of Sheaf into a folder, for the package to carry (server/template_cache.py
reads it before the data folder's cache). Run by build.spec:

    python -m tools.precompile_templates TARGET

It builds the app, because compiling a template needs the filters the app adds to Jinja.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from flask import Flask

from server import create_app
from server.template_cache import PATTERN, TemplateCache


def precompile(app: Flask, target: Path) -> int:
    """Compile every template of ``app`` into ``target`` (its old entries removed); the count.

    Each is loaded as a start would load it, through a cache with no shipped tier, so what is
    written is what a start looks for."""
    target.mkdir(parents=True, exist_ok=True)
    for old in target.glob(PATTERN % "*"):
        old.unlink()
    environment = app.jinja_env.overlay(bytecode_cache=TemplateCache(target), cache_size=0)
    names = environment.list_templates()
    for name in names:
        environment.get_template(name)
    written = len(list(target.glob(PATTERN % "*")))
    if written != len(names):  # the cache ignores errors; a build must not
        raise RuntimeError(f"{len(names)} templates but {written} compiled into {target}")
    return written


def main(argv: list[str]) -> int:
    target = Path(argv[0]).resolve()
    with tempfile.TemporaryDirectory() as data:
        count = precompile(create_app({"DATA_DIR": data}), target)
    print(f"{count} templates compiled into {target}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
