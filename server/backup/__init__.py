"""Backups of a data folder, and restoring one.

A backup is one zip file: the application database and every dataset file, each copied with
SQLite's online backup API (consistent while people keep working), the original import files
and ``settings.json``, with ``manifest.json`` listing every file's size and SHA-256.

Restoring never overwrites data in place. The backup is verified (manifest, checksums, SQLite
integrity of every database in it) and unpacked into ``restore-pending/``; the swap happens at
the next start, before the database is opened (:func:`finish_restore`), after the current data
has itself been saved as a backup. Every step of the swap can be repeated, so a crash half-way
finishes at the following start.

What a restore checks beyond the manifest (sizes before unpacking, the database's own schema,
the file keys it stores, the settings) is in :mod:`.contents`. Backup files are the owner's
alone (0600), as is everything unpacked.

No Flask here: the app, the command line (``sheaf backup`` / ``sheaf restore``) and the tests
all call these functions.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import secrets
import shutil
import sqlite3
import tempfile
import time
import zipfile
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import BinaryIO

from .. import file_removal
from ..config import DATABASE_FILE, SECRET_KEY_FILE, SETTINGS_FILE
from ..file_keys import KEY_PATTERN, key_path
from ..migrations import available as known_migrations
from ..sqlite_files import copy_file, sync, sync_folder
from ..version import __version__
from .contents import check_contents, check_sizes
from .errors import BackupError

BACKUP_DIR = "backups"
PENDING_DIR = "restore-pending"
PREVIOUS_DIR = "restore-previous"
MANIFEST = "manifest.json"
FORMAT = "sheaf-backup"
FORMAT_VERSION = 1
AUTO_PREFIX = "sheaf-auto-"
MANUAL_PREFIX = "sheaf-backup-"
UPLOAD_PREFIX = "sheaf-uploaded-"
_MOVED_OLD = ".old-data-moved"  # marker inside restore-pending: the swap's first half is done
# What a backup holds, relative to the data folder; nothing else is ever unpacked.
_ALLOWED = re.compile(
    rf"^({re.escape(DATABASE_FILE)}|{re.escape(SETTINGS_FILE)}|datasets/{KEY_PATTERN}\.sqlite"
    rf"|originals/{KEY_PATTERN})$"
)
_SWAPPED = [DATABASE_FILE, "datasets", "originals", SETTINGS_FILE]
_MANIFEST_MAX_BYTES = 16 * 1024 * 1024


@dataclass(frozen=True)
class BackupInfo:
    path: Path
    created_at: datetime
    sheaf_version: str
    schema_version: int
    files: int
    datasets: int
    size: int


def backups_dir(data_dir: Path) -> Path:
    folder = Path(data_dir) / BACKUP_DIR
    folder.mkdir(mode=0o700, exist_ok=True)
    return folder


def new_backup_path(data_dir: Path, automatic: bool = False) -> Path:
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    prefix = AUTO_PREFIX if automatic else MANUAL_PREFIX
    path = backups_dir(data_dir) / f"{prefix}{stamp}.zip"
    number = 1
    while path.exists():
        number += 1
        path = path.with_name(f"{prefix}{stamp}-{number}.zip")
    return path


def new_upload_path(data_dir: Path) -> Path:
    """A name for an uploaded backup that no other has: its time and a random part, so two
    uploads in one second never share (or replace) a file."""
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    while True:
        path = backups_dir(data_dir) / f"{UPLOAD_PREFIX}{stamp}-{secrets.token_hex(4)}.zip"
        if not path.exists() and not path.with_name(path.name + ".partial").exists():
            return path


def open_private(path: Path, exclusive: bool = False) -> BinaryIO:
    """Open ``path`` for writing, readable by its owner only (0600), even if it existed;
    ``exclusive``: refuse a file that exists."""
    flags = os.O_WRONLY | os.O_CREAT | getattr(os, "O_BINARY", 0)
    flags |= os.O_EXCL if exclusive else os.O_TRUNC
    fd = os.open(path, flags, 0o600)
    if hasattr(os, "fchmod"):
        os.fchmod(fd, 0o600)
    return os.fdopen(fd, "wb")


def list_backups(data_dir: Path) -> list[Path]:
    """The backups in the data folder's backups/, newest first."""
    folder = Path(data_dir) / BACKUP_DIR
    if not folder.is_dir():
        return []
    found = [p for p in folder.glob("*.zip") if p.is_file()]
    return sorted(found, key=lambda p: p.stat().st_mtime, reverse=True)


# --- making ----------------------------------------------------------------------------------


def _copy(source: Path, target: Path, as_is: bool) -> None:
    try:
        copy_file(source, target)
    except sqlite3.DatabaseError as exc:
        if not as_is:
            raise BackupError(f"{source.name} cannot be read by SQLite ({exc}).") from None
        target.unlink(missing_ok=True)
        shutil.copyfile(source, target)


def _schema_version(database: Path) -> int:
    con = sqlite3.connect(f"{database.as_uri()}?mode=ro", uri=True)
    try:
        row = con.execute("SELECT max(version) FROM schema_version").fetchone()
        return int(row[0] or 0)
    except sqlite3.Error:
        return 0
    finally:
        con.close()


def _add(archive: zipfile.ZipFile, source: Path, name: str) -> dict:
    digest = hashlib.sha256()
    size = 0
    with open(source, "rb") as reader, archive.open(name, "w", force_zip64=True) as writer:
        while chunk := reader.read(1 << 20):
            digest.update(chunk)
            size += len(chunk)
            writer.write(chunk)
    return {"name": name, "size": size, "sha256": digest.hexdigest()}


def make_backup(data_dir: Path, target: Path, *, as_is: bool = False) -> BackupInfo:
    """Write a backup of ``data_dir`` to ``target`` (all or nothing).

    With ``as_is``, a database SQLite cannot read is copied byte for byte instead of
    stopping the backup: that is how the data a restore replaces is kept, damaged or not."""
    data_dir = Path(data_dir)
    database = data_dir / DATABASE_FILE
    if not database.exists():
        raise BackupError(f"{data_dir} holds no Sheaf database to back up.")
    partial = target.with_name(target.name + ".partial")
    scratch_root = data_dir / "tmp"
    scratch_root.mkdir(mode=0o700, exist_ok=True)
    try:
        with (
            tempfile.TemporaryDirectory(dir=scratch_root) as scratch,
            open_private(partial) as handle,
            zipfile.ZipFile(handle, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as archive,
        ):
            entries = []
            copy = Path(scratch) / DATABASE_FILE
            _copy(database, copy, as_is)
            schema = _schema_version(copy)
            entries.append(_add(archive, copy, DATABASE_FILE))
            copy.unlink()
            datasets = sorted((data_dir / "datasets").glob("*.sqlite"))
            for dataset in datasets:
                name = f"datasets/{dataset.name}"
                if not _ALLOWED.match(name):
                    continue
                copy = Path(scratch) / dataset.name
                _copy(dataset, copy, as_is)
                entries.append(_add(archive, copy, name))
                copy.unlink()
            for original in sorted((data_dir / "originals").glob("*")):
                name = f"originals/{original.name}"
                if original.is_file() and _ALLOWED.match(name):
                    entries.append(_add(archive, original, name))
            if (data_dir / SETTINGS_FILE).is_file():
                entries.append(_add(archive, data_dir / SETTINGS_FILE, SETTINGS_FILE))
            created = datetime.now(UTC)
            manifest = {
                "format": FORMAT,
                "format_version": FORMAT_VERSION,
                "sheaf_version": __version__,
                "schema_version": schema,
                "created_at": created.isoformat(timespec="seconds"),
                "files": entries,
            }
            archive.writestr(MANIFEST, json.dumps(manifest, indent=1))
        with open(partial, "rb+") as handle:
            sync(handle.fileno())
        os.replace(partial, target)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    return BackupInfo(
        target,
        created,
        __version__,
        schema,
        len(entries),
        sum(1 for e in entries if e["name"].startswith("datasets/")),
        target.stat().st_size,
    )


def prune_automatic(data_dir: Path, keep: int) -> list[Path]:
    """Delete all but the ``keep`` newest automatic backups; return what went. One being
    downloaded (Windows refuses to delete it) goes when the download has ended."""
    automatic = [p for p in list_backups(data_dir) if p.name.startswith(AUTO_PREFIX)]
    gone = automatic[keep:]
    return [path for path in gone if file_removal.remove(path)]


def automatic_backup_due(data_dir: Path, now: datetime | None = None) -> bool:
    """True when no backup of any kind is younger than a day."""
    now = now or datetime.now(UTC)
    newest = list_backups(data_dir)
    if not newest:
        return True
    made = datetime.fromtimestamp(newest[0].stat().st_mtime, UTC)
    return now - made > timedelta(days=1)


# --- reading and verifying -------------------------------------------------------------------


def _manifest(archive: zipfile.ZipFile) -> dict:
    try:
        info = archive.getinfo(MANIFEST)
    except KeyError:
        raise BackupError("This is not a Sheaf backup (it has no manifest).") from None
    if info.file_size > _MANIFEST_MAX_BYTES:
        raise BackupError("This backup's manifest is too large to be genuine.")
    try:
        manifest = json.loads(archive.read(MANIFEST))
    except (ValueError, zipfile.BadZipFile, OSError) as exc:
        raise BackupError(f"This backup's manifest cannot be read ({exc}).") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise BackupError("This is not a Sheaf backup.")
    if manifest.get("format_version") != FORMAT_VERSION:
        raise BackupError(
            f"This backup has format {manifest.get('format_version')!r}; this Sheaf reads "
            f"format {FORMAT_VERSION}."
        )
    files = manifest.get("files")
    if not isinstance(files, list) or not all(
        isinstance(f, dict)
        and isinstance(f.get("name"), str)
        and isinstance(f.get("size"), int)
        and isinstance(f.get("sha256"), str)
        for f in files
    ):
        raise BackupError("This backup's manifest is damaged.")
    return manifest


def _check_entries(archive: zipfile.ZipFile, files: list[dict]) -> None:
    names = [f["name"] for f in files]
    if DATABASE_FILE not in names:
        raise BackupError("This backup holds no database.")
    if len(set(names)) != len(names):
        raise BackupError("This backup lists a file twice.")
    for name in names:
        if not _ALLOWED.match(name):
            raise BackupError(f"This backup holds a file Sheaf does not restore: {name!r}.")
    listed = [i.filename for i in archive.infolist() if not i.is_dir()]
    if len(set(listed)) != len(listed):
        raise BackupError("This backup holds a file twice.")
    inside = set(listed)
    if inside != {*names, MANIFEST}:
        extra = sorted(inside - {*names, MANIFEST})
        missing = sorted({*names} - inside)
        raise BackupError(
            "This backup does not match its manifest"
            + (f" (missing: {', '.join(missing[:3])})" if missing else "")
            + (f" (not listed: {', '.join(extra[:3])})" if extra else "")
            + "."
        )


def _entry_path(root: Path, name: str) -> Path:
    """Where an entry (already matched against ``_ALLOWED``) is unpacked: a dataset file or
    an original goes through :func:`server.file_keys.key_path` like every stored key."""
    folder, _, file_name = name.rpartition("/")
    if not folder:
        return root / name
    suffix = ".sqlite" if folder == "datasets" else ""
    return key_path(root / folder, file_name.removesuffix(suffix), suffix)


def _extract_checked(archive: zipfile.ZipFile, entry: dict, root: Path) -> None:
    """Unpack one file (0600), refusing it unless its size and SHA-256 are the manifest's."""
    digest = hashlib.sha256()
    size = 0
    target = _entry_path(root, entry["name"])
    target.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    with archive.open(entry["name"]) as reader, open_private(target) as writer:
        while chunk := reader.read(1 << 20):
            size += len(chunk)
            if size > entry["size"]:
                break  # never unpack more than the manifest promised
            digest.update(chunk)
            writer.write(chunk)
    if size != entry["size"] or digest.hexdigest() != entry["sha256"]:
        raise BackupError(f"{entry['name']} in this backup is damaged (its checksum differs).")


def integrity(database: Path, pragma: str = "integrity_check") -> str:
    """SQLite's ``integrity_check`` (or ``quick_check``) of one file, read-only: "ok", or what
    is wrong. Raises sqlite3.Error when the file is no database SQLite can open."""
    con = sqlite3.connect(f"{Path(database).as_uri()}?mode=ro", uri=True)
    try:
        con.execute("PRAGMA busy_timeout = 10000")
        rows = [row[0] for row in con.execute(f"PRAGMA {pragma}(20)")]
    finally:
        con.close()
    return "ok" if rows == ["ok"] else "; ".join(map(str, rows))


def _integrity(database: Path, name: str) -> None:
    try:
        result = integrity(database)
    except sqlite3.Error as exc:
        raise BackupError(f"{name} in this backup is not a readable database ({exc}).") from None
    if result != "ok":
        raise BackupError(f"{name} in this backup fails SQLite's integrity check: {result}.")


def _newest_schema(schema_now: int | None) -> int:
    """The newest schema a restore may bring: what this Sheaf's migrations know, and no more
    than the running database's (``schema_now``) when given."""
    newest = len(known_migrations())
    return newest if schema_now is None else min(newest, schema_now)


def _unpack(path: Path, target: Path, schema_now: int | None) -> BackupInfo:
    """Verify the backup at ``path`` completely while unpacking it into ``target``."""
    newest = _newest_schema(schema_now)
    try:
        with zipfile.ZipFile(path) as archive:
            manifest = _manifest(archive)
            files = manifest["files"]
            _check_entries(archive, files)
            schema = manifest.get("schema_version")
            if not isinstance(schema, int):
                raise BackupError("This backup's manifest is damaged.")
            if schema > newest:  # said early; the database itself is asked below
                raise BackupError(
                    f"This backup comes from a newer Sheaf ({manifest.get('sheaf_version')}); "
                    "update Sheaf before restoring it."
                )
            check_sizes(archive, files, target)
            for entry in files:
                _extract_checked(archive, entry, target)
    except zipfile.BadZipFile:
        raise BackupError("This file is not a Sheaf backup (it is not a zip archive).") from None
    except OSError as exc:
        raise BackupError(f"This backup cannot be read ({exc}).") from None
    for entry in files:
        if entry["name"].endswith((".sqlite", ".db")):
            _integrity(target / entry["name"], entry["name"])
    if check_contents(target, newest) != schema:
        raise BackupError("This backup's manifest does not match its database (schema).")
    try:
        created = datetime.fromisoformat(manifest.get("created_at", ""))
    except (TypeError, ValueError):
        raise BackupError("This backup's manifest is damaged.") from None
    return BackupInfo(
        path,
        created,
        str(manifest.get("sheaf_version", "")),
        schema,
        len(files),
        sum(1 for f in files if f["name"].startswith("datasets/")),
        path.stat().st_size,
    )


def verify_backup(path: Path, data_dir: Path, schema_now: int | None = None) -> BackupInfo:
    """Check every file of a backup against its manifest and every database in it for
    integrity, in a scratch folder that is removed afterwards. Raises :class:`BackupError`."""
    scratch_root = Path(data_dir) / "tmp"
    scratch_root.mkdir(mode=0o700, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=scratch_root) as scratch:
        return _unpack(Path(path), Path(scratch), schema_now)


# --- restoring -------------------------------------------------------------------------------


def stage_restore(path: Path, data_dir: Path, schema_now: int | None = None) -> BackupInfo:
    """Verify the backup and unpack it into ``restore-pending/``; the next start swaps it in."""
    data_dir = Path(data_dir)
    pending = data_dir / PENDING_DIR
    partial = data_dir / (PENDING_DIR + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir(mode=0o700)
    try:
        info = _unpack(Path(path), partial, schema_now)
        shutil.rmtree(pending, ignore_errors=True)
        os.replace(partial, pending)
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)
        raise
    return info


def restore_pending(data_dir: Path) -> bool:
    return (Path(data_dir) / PENDING_DIR).is_dir()


def cancel_restore(data_dir: Path) -> None:
    pending = Path(data_dir) / PENDING_DIR
    if not (pending / _MOVED_OLD).exists():
        shutil.rmtree(pending, ignore_errors=True)


#: How long the restore swap waits for a file another program holds (Windows refuses to move
#: it: an antivirus scan, a backup tool, a Sheaf still closing), trying every half second.
SWAP_PATIENCE = 10.0


def _move_patiently(source: Path, target: Path, patience: float) -> None:
    """``os.replace``, tried again while another process holds the file (Windows)."""
    deadline = time.monotonic() + patience
    while True:
        try:
            os.replace(source, target)
            return
        except PermissionError as exc:
            if time.monotonic() >= deadline:
                raise BackupError(
                    f"The restore could not finish: {source.name} in {source.parent} is in use "
                    "by another program (an antivirus scan, a backup tool, or a Sheaf that has "
                    "not closed yet). Nothing was lost: close that program, or restart the "
                    "computer, and start Sheaf again; the restore finishes then. "
                    f"({exc.strerror})"
                ) from None
            time.sleep(0.5)


def finish_restore(data_dir: Path, patience: float = SWAP_PATIENCE) -> Path | None:
    """At start-up, before the database is opened: swap a staged restore in. Returns the backup
    of the data it replaced (None when nothing was staged). A file another program holds is
    waited for ``patience`` seconds, then :class:`BackupError` says so; the data is left as it
    was before the swap (or with the swap's first half done), and the next start goes on."""
    data_dir = Path(data_dir)
    pending = data_dir / PENDING_DIR
    if not pending.is_dir():
        return None
    previous = data_dir / PREVIOUS_DIR
    saved = None
    if not (pending / _MOVED_OLD).exists():
        if (data_dir / DATABASE_FILE).exists():
            saved = new_backup_path(data_dir)
            saved = saved.with_name(saved.name.replace(MANUAL_PREFIX, "sheaf-before-restore-"))
            make_backup(data_dir, saved, as_is=True)
        previous.mkdir(mode=0o700, exist_ok=True)
        moved: list[str] = []
        try:
            for name in [*_SWAPPED, f"{DATABASE_FILE}-wal", f"{DATABASE_FILE}-shm"]:
                if (data_dir / name).exists():
                    _move_patiently(data_dir / name, previous / name, patience)
                    moved.append(name)
        except BackupError:
            for name in reversed(moved):  # back as it was: the next start begins again
                os.replace(previous / name, data_dir / name)
            if saved is not None:
                file_removal.remove(saved)
            raise
        (pending / _MOVED_OLD).touch()
        sync_folder(data_dir)
    for name in _SWAPPED:
        if (pending / name).exists():
            _move_patiently(pending / name, data_dir / name, patience)
    (data_dir / "datasets").mkdir(mode=0o700, exist_ok=True)
    (data_dir / "originals").mkdir(mode=0o700, exist_ok=True)
    # Sessions signed with the old key could name people of the old data: they all end.
    (data_dir / SECRET_KEY_FILE).unlink(missing_ok=True)
    sync_folder(data_dir)
    shutil.rmtree(pending, ignore_errors=True)
    shutil.rmtree(previous, ignore_errors=True)
    return saved
