"""Numbered schema migrations, applied in order at start-up inside one transaction.

Each migration is a module ``mNNNN_name.py`` with ``apply(db)``. Migrations use SQL, not the
current models, so that an old data folder always upgrades the same way whatever the models
have become. Never edit a migration that has shipped; add the next number.
"""

from __future__ import annotations

import importlib
import pkgutil
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from types import ModuleType

from peewee import Database

_NAME = re.compile(r"^m(\d{4})_(\w+)$")


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    module: ModuleType


class MigrationError(RuntimeError):
    """The data folder was written by a newer Sheaf, or a migration failed."""


def available() -> list[Migration]:
    found = []
    for info in pkgutil.iter_modules(__path__):
        match = _NAME.match(info.name)
        if match:
            module = importlib.import_module(f"{__name__}.{info.name}")
            found.append(Migration(int(match.group(1)), match.group(2), module))
    found.sort(key=lambda m: m.version)
    versions = [m.version for m in found]
    if versions != list(range(1, len(found) + 1)):
        raise MigrationError(
            f"Migrations must be numbered 1, 2, 3… without gaps; found {versions}."
        )
    return found


def current_version(db: Database) -> int:
    db.execute_sql(
        "CREATE TABLE IF NOT EXISTS schema_version ("
        " version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)"
    )
    row = db.execute_sql("SELECT MAX(version) FROM schema_version").fetchone()
    return row[0] or 0


def migrate(db: Database, target: int | None = None) -> list[int]:
    """Apply every migration above the folder's version (up to ``target``); return those applied.

    All of them run in one IMMEDIATE transaction: either the folder ends at the new version or it
    stays exactly as it was. Foreign keys are off while they run, so a migration that rebuilds a
    parent table (SQLite's way to change a column) cannot fire ``ON DELETE CASCADE`` on its
    children; ``foreign_key_check`` must then find nothing broken, or everything is undone.
    """
    migrations = available()
    newest = migrations[-1].version if migrations else 0
    target = newest if target is None else target
    enforced = db.execute_sql("PRAGMA foreign_keys").fetchone()[0]
    db.execute_sql("PRAGMA foreign_keys = OFF")  # no effect inside a transaction: set before
    try:
        return _apply(db, migrations, newest, target)
    finally:
        db.execute_sql(f"PRAGMA foreign_keys = {1 if enforced else 0}")


def _apply(db: Database, migrations: list[Migration], newest: int, target: int) -> list[int]:
    applied: list[int] = []
    with db.atomic(lock_type="IMMEDIATE"):
        version = current_version(db)
        if version > newest:
            raise MigrationError(
                f"This data folder was written by a newer Sheaf (schema {version}, this version "
                f"knows {newest}). Update Sheaf to open it."
            )
        for migration in migrations:
            if version < migration.version <= target:
                migration.module.apply(db)
                db.execute_sql(
                    "INSERT INTO schema_version (version, name, applied_at) VALUES (?, ?, ?)",
                    (migration.version, migration.name, datetime.now(UTC).isoformat()),
                )
                applied.append(migration.version)
        broken = db.execute_sql("PRAGMA foreign_key_check").fetchall()
        if broken:
            raise MigrationError(
                f"A migration left {len(broken)} rows pointing at rows that do not exist "
                f"(first: {broken[0]}); nothing was changed."
            )
    return applied
