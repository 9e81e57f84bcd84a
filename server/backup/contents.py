"""What a backup holds, checked before it may become the data: a manifest is only a claim
from whoever made the file, so the sizes are bounded before anything is unpacked, and after
unpacking the database itself says its schema and the files it names, and the settings file
passes the checks Sheaf applies at start-up. A backup that would stop Sheaf from starting, or
make it read or delete a file outside the data folder, is refused and changes nothing."""

from __future__ import annotations

import shutil
import sqlite3
import zipfile
from pathlib import Path

from ..config import DATABASE_FILE, SETTINGS_FILE, SettingsError, read_settings
from ..file_keys import is_key
from .errors import BackupError

SETTINGS_MAX_BYTES = 1024 * 1024  # a settings file holds a few dozen numbers
DISK_RESERVE_BYTES = 256 * 1024 * 1024  # left free after unpacking, for Sheaf and its logs
GIB = 1024**3
# Every column that names a file in datasets/ or originals/, in any schema a backup may have
# (dataset_step until schema 7); True where it may be NULL.
KEY_COLUMNS = (
    ("dataset", "storage_key", False),
    ("dataset_version", "file_key", False),
    ("dataset_version", "previous_file_key", True),
    ("dataset_step", "previous_key", False),
    ("import_job", "original_key", False),
)


def check_sizes(archive: zipfile.ZipFile, files: list[dict], target: Path) -> None:
    """Before unpacking: each entry's size as the zip records it (what unpacking it yields)
    is the manifest's, the settings file is small, and the whole fits on the disk."""
    total = 0
    for entry in files:
        size = archive.getinfo(entry["name"]).file_size
        if size != entry["size"] or size < 0:
            raise BackupError(f"{entry['name']} in this backup does not match its manifest.")
        if entry["name"] == SETTINGS_FILE and size > SETTINGS_MAX_BYTES:
            raise BackupError(f"{SETTINGS_FILE} in this backup is too large to be genuine.")
        total += size
    free = shutil.disk_usage(target).free
    if total + DISK_RESERVE_BYTES > free:
        raise BackupError(
            f"Unpacking this backup needs {total / GIB:.1f} GiB and the disk of the data folder "
            f"has {free / GIB:.1f} GiB free; make room first."
        )


def check_contents(root: Path, newest_schema: int) -> int:
    """Check the unpacked backup in ``root``; return its database's schema version."""
    con = sqlite3.connect(f"{(root / DATABASE_FILE).as_uri()}?mode=ro", uri=True)
    try:
        schema = _schema(con)
        if schema > newest_schema:
            raise BackupError(
                f"This backup's database comes from a newer Sheaf (schema {schema}; this Sheaf "
                f"knows {newest_schema}); update Sheaf before restoring it."
            )
        for table, column, nullable in KEY_COLUMNS:
            _check_keys(con, table, column, nullable)
    except sqlite3.Error as exc:
        raise BackupError(f"This backup's database cannot be read ({exc}).") from None
    finally:
        con.close()
    if (root / SETTINGS_FILE).exists():
        try:
            read_settings(root / SETTINGS_FILE, f"{SETTINGS_FILE} in this backup")
        except SettingsError as exc:
            raise BackupError(f"This backup's settings cannot be used: {exc}") from None
    return schema


def _schema(con: sqlite3.Connection) -> int:
    try:
        version = con.execute("SELECT max(version) FROM schema_version").fetchone()[0]
    except sqlite3.Error:
        version = None
    if not isinstance(version, int) or version < 1:
        raise BackupError("This backup's database is not a Sheaf database (no schema version).")
    return version


def _check_keys(con: sqlite3.Connection, table: str, column: str, nullable: bool) -> None:
    """Every file name the database stores must be one Sheaf makes (server/file_keys.py)."""
    present = {row[1] for row in con.execute(f"PRAGMA table_info({table})")}
    if column not in present:
        return  # a schema without that column
    for (value,) in con.execute(f"SELECT {column} FROM {table}"):  # noqa: S608 - constants
        if value is None and nullable:
            continue
        if not is_key(value):
            raise BackupError(
                f"This backup's database names a file Sheaf does not make ({table}.{column} = "
                f"{str(value)[:60]!r}); it is not restored."
            )
