"""Every change to a dataset is a version in one linear history, and nothing is ever lost.

Each version records who, when, what (in words), how many rows it touched and the state after
it: the row count, the columns, and the dataset file holding the rows. Two kinds of version:

- **whole-file** (cleaning steps, appends, replaces, go-backs): the change is made on a copy of
  the current file, which then becomes the dataset's file; the file before stays, so undo is a
  switch back, exact whatever the step did;
- **row-level** (a cell or row edited, rows added or deleted): the change is made in place in
  the current file and recorded as each row before and after (:class:`RowChange`), so one cell
  edit never copies a million rows; undo applies the inverse.

Undo, redo and go-back are versions too: the history is only ever appended to. Undo reverts the
latest change not yet undone, redo re-applies what undo reverted until a new change is made, and
going back to version *k* makes a new version whose rows equal *k*'s.

A file's rows change in place only while it is the dataset's current file, so any other file
still holds the rows it had when it was left. The rows of version *k* are therefore its file's
rows with the row-level changes made to that file after *k* reverted.

Writers to one dataset are serialised by a lock per dataset (one Sheaf runs per data folder, so
a lock in this process is the lock; a killed process holds none). Every change names the version
it was made on: a bulk change made on an older version is refused, and a row edit is refused
when its row changed since. Readers never take the lock.
"""

from __future__ import annotations

import json
import logging
import sqlite3
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any, TypeVar

from peewee import JOIN

from .. import file_keys, file_removal
from ..audit_trail import record
from ..db import database
from ..models import Dataset, DatasetVersion, RowChange, User, utcnow
from ..sqlite_files import connect, copy_file, durable_rename
from .catalog import columns_json, columns_of, dataset_file, kept_files
from .storage import Column, build_search_index, drop_search_sets, indexed

log = logging.getLogger(__name__)
T = TypeVar("T")
LOCK_WAIT_SECONDS = 30
ROW_LEVEL_KINDS = ("edit", "add", "delete")
KIND_LABELS = {
    "import": "Import",
    "start": "Start of the history",
    "step": "Cleaning step",
    "append": "Rows added",
    "replace": "Rows replaced",
    "edit": "Row edited",
    "add": "Row added",
    "delete": "Rows deleted",
    "undo": "Undo",
    "redo": "Redo",
    "go_back": "Go back",
}


class VersionError(ValueError):
    """A change that cannot be made; the message says why, for a person. Nothing changed."""


class Busy(VersionError):
    pass


class Stale(VersionError):
    """The change was made on a version that is no longer current, and the difference matters."""

    def __init__(self, since: Sequence[DatasetVersion]) -> None:
        latest = since[-1]
        who = latest.user.display_name if latest.user_id else "Sheaf"
        others = f" (and {len(since) - 1:,} more)" if len(since) > 1 else ""
        when = f"version {latest.number:,}, {latest.created_at:%Y-%m-%d %H:%M} UTC{others}"
        after = "Nothing of yours was applied; look at the current version and try again."
        super().__init__(
            f"{who} changed this dataset after you opened it: {describe(latest)}, {when}. {after}"
        )
        # Without what the change was: its summary may name values of rows that someone
        # limited by row rules does not see (a step's values that did not fit, say).
        self.briefly = f"{who} changed this dataset after you opened it ({when}). {after}"
        self.since = list(since)


_prune_soon: list[threading.Event] = []  # set by start_pruning: a bulk change wakes it
# Called with a dataset's id when another file becomes its rows (indexing.start adds one): the
# new file's search index may still have to be built.
new_file_hooks: list[Callable[[int], None]] = []
_locks: dict[int, threading.Lock] = {}
_locks_guard = threading.Lock()


def _lock_of(dataset_id: int) -> threading.Lock:
    with _locks_guard:
        return _locks.setdefault(dataset_id, threading.Lock())


@contextmanager
def writing(dataset_id: int) -> Iterator[Dataset]:
    """Hold the dataset's write lock and give its record as it is now."""
    lock = _lock_of(dataset_id)
    if not lock.acquire(timeout=LOCK_WAIT_SECONDS):
        raise Busy("Another change to this dataset is still running. Try again in a moment.")
    try:
        dataset = Dataset.get_or_none(Dataset.id == dataset_id)
        if dataset is None:
            raise VersionError("This dataset no longer exists.")
        yield dataset
    finally:
        lock.release()


def describe(version: DatasetVersion) -> str:
    """The version in words, as the history and the audit log show it."""
    return version.summary or KIND_LABELS.get(version.kind, version.kind)


def since(dataset: Dataset, base: int) -> list[DatasetVersion]:
    return list(
        DatasetVersion.select()
        .where((DatasetVersion.dataset == dataset) & (DatasetVersion.number > base))
        .order_by(DatasetVersion.number)
    )


def require_current(dataset: Dataset, base: int | None) -> None:
    """A bulk change is made only on the current version."""
    if base is None:
        raise VersionError("This page is out of date: open it again and repeat the change.")
    if base != dataset.version:
        raise Stale(since(dataset, base) or [latest(dataset)])


def require_rows_unchanged(dataset: Dataset, base: int | None, row_ids: Sequence[int]) -> None:
    """A row edit is refused only when one of its rows changed after ``base`` (any whole-file
    version since then may have changed every row)."""
    if base is None:
        raise VersionError("This page is out of date: open it again and repeat the change.")
    later = since(dataset, base)
    if base > dataset.version:
        raise VersionError("This page names a version that does not exist: open it again.")
    conflicting = [v for v in later if v.whole_file]
    if not conflicting and later:
        touched = (
            RowChange.select(RowChange.version)
            .where(RowChange.version.in_([v.id for v in later]) & RowChange.row_id.in_(row_ids))
            .distinct()
        )
        ids = {row.version_id for row in touched}
        conflicting = [v for v in later if v.id in ids]
    if conflicting:
        raise Stale(conflicting)


def latest(dataset: Dataset) -> DatasetVersion:
    return DatasetVersion.get(
        (DatasetVersion.dataset == dataset) & (DatasetVersion.number == dataset.version)
    )


def history(dataset: Dataset, limit: int | None = None) -> list[DatasetVersion]:
    """Newest first (the newest ``limit`` only, when given)."""
    query = (
        DatasetVersion.select(DatasetVersion, User)
        .join(User, JOIN.LEFT_OUTER, on=(DatasetVersion.user == User.id))
        .where(DatasetVersion.dataset == dataset)
        .order_by(DatasetVersion.number.desc())
    )
    return list(query.limit(limit) if limit else query)


def stacks(dataset: Dataset) -> tuple[list[DatasetVersion], list[DatasetVersion]]:
    """The changes in effect (oldest first) and those undo reverted (the next redo last)."""
    done: list[DatasetVersion] = []
    undone: list[DatasetVersion] = []
    for version in (
        DatasetVersion.select()
        .where(DatasetVersion.dataset == dataset)
        .order_by(DatasetVersion.number)
    ):
        if version.kind == "undo":
            undone.append(done.pop())
        elif version.kind == "redo":
            done.append(undone.pop())
        else:
            done.append(version)
            undone.clear()
    return done, undone


def _next(
    dataset: Dataset,
    user: User | None,
    kind: str,
    summary: str,
    *,
    file_key: str,
    whole_file: bool,
    row_count: int,
    columns: str,
    rows_touched: int,
    params: dict[str, Any] | None = None,
    reverts: DatasetVersion | None = None,
) -> DatasetVersion:
    """Append a version (inside the caller's transaction) and make it the dataset's state."""
    version = DatasetVersion.create(
        dataset=dataset,
        number=dataset.version + 1,
        kind=kind,
        summary=summary,
        params=json.dumps(params or {}, ensure_ascii=False),
        user=user,
        rows_touched=rows_touched,
        row_count=row_count,
        columns=columns,
        file_key=file_key,
        previous_file_key=dataset.storage_key if whole_file else None,
        whole_file=whole_file,
        reverts=reverts,
    )
    dataset.version = version.number
    dataset.storage_key, dataset.row_count, dataset.columns = file_key, row_count, columns
    dataset.updated_at = utcnow()
    dataset.save()
    return version


def new_dataset(
    name: str,
    owner: User,
    storage_key: str,
    columns: list[Column],
    row_count: int,
    summary: str,
) -> Dataset:
    """A dataset made from a loaded file, with its first version."""
    with database.atomic():
        dataset = Dataset.create(
            name=name,
            owner=owner,
            storage_key=storage_key,
            row_count=row_count,
            columns=columns_json(columns),
            version=0,
        )
        _next(
            dataset,
            owner,
            "import",
            summary,
            file_key=storage_key,
            whole_file=True,
            row_count=row_count,
            columns=dataset.columns,
            rows_touched=row_count,
        )
    return dataset


def commit_file(
    dataset: Dataset,
    user: User | None,
    kind: str,
    summary: str,
    *,
    new_key: str,
    columns: list[Column],
    row_count: int,
    rows_touched: int,
    params: dict[str, Any] | None = None,
    audit: str,
    audit_details: dict[str, Any] | None = None,
) -> DatasetVersion:
    """A whole-file version: ``new_key``'s file (durable on disk) becomes the dataset's rows.
    The caller holds :func:`writing` and has checked the base version."""
    with database.atomic():
        version = _next(
            dataset,
            user,
            kind,
            summary,
            file_key=new_key,
            whole_file=True,
            row_count=row_count,
            columns=columns_json(columns),
            rows_touched=rows_touched,
            params=params,
        )
        _audit(audit, version, user, audit_details)
    for wake in _prune_soon:
        wake.set()
    announce_new_file(dataset.id)
    return version


def announce_new_file(dataset_id: int) -> None:
    """Tell the hooks that the dataset's rows are in another file now (its search index may
    be under way): called once the version that says so is committed."""
    for hook in new_file_hooks:
        hook(dataset_id)


def _audit(
    action: str, version: DatasetVersion, user: User | None, extra: dict | None = None
) -> None:
    record(
        action,
        object_type="dataset",
        object_id=version.dataset_id,
        actor=user,
        details={
            "version": version.number,
            "what": describe(version),
            "rows_touched": version.rows_touched,
            "rows_after": version.row_count,
            **(extra or {}),
        },
    )


# --- row-level changes --------------------------------------------------------------------------


@dataclass
class RowEdit:
    """One row's change: ``row_id`` None adds a row; ``after`` None deletes it; otherwise the
    columns named in ``after`` take its values (the others stay)."""

    row_id: int | None
    after: dict[str, Any] | None


def _stamp(con: sqlite3.Connection, number: int) -> None:
    """The version the file's rows are at, written in the same transaction as the rows, so a
    crash between the file and the application database is found and finished at the next
    start (:func:`recover`)."""
    con.execute("CREATE TABLE IF NOT EXISTS sheaf_meta (key TEXT PRIMARY KEY, value)")
    con.execute("INSERT OR REPLACE INTO sheaf_meta (key, value) VALUES ('version', ?)", (number,))


def _stamp_of(con: sqlite3.Connection) -> int | None:
    try:
        row = con.execute("SELECT value FROM sheaf_meta WHERE key = 'version'").fetchone()
    except sqlite3.OperationalError:
        return None
    return row[0] if row else None


def read_row(
    dataset: Dataset, columns: list[Column], row_id: int, data_dir: Path
) -> dict[str, Any] | None:
    """One row of the dataset's current file by column name, or None."""
    con = connect(dataset_file(data_dir, dataset.storage_key))
    try:
        return _read_row(con, columns, row_id)
    finally:
        con.close()


def last_change_of_row(dataset: Dataset, row_id: int) -> DatasetVersion | None:
    """The latest version that changed the row by itself (an edit, an add, a delete, or their
    undo or redo)."""
    return (
        DatasetVersion.select()
        .join(RowChange)
        .where((DatasetVersion.dataset == dataset) & (RowChange.row_id == row_id))
        .order_by(DatasetVersion.number.desc())
        .first()
    )


def _read_row(con: sqlite3.Connection, columns: list[Column], row_id: int) -> dict | None:
    names = [c.name for c in columns]
    row = con.execute(f"SELECT {', '.join(names)} FROM rows WHERE rowid = ?", (row_id,)).fetchone()
    return None if row is None else dict(zip(names, row, strict=True))


def _fts(con: sqlite3.Connection, columns: list[Column], row_id: int, values: dict, add: bool):
    """Keep the external-content search index in step with one row (while the index is being
    built, only a row the build has passed: it takes the others as it comes to them)."""
    texts = [c.name for c in columns if c.type == "text"]
    if (
        not texts
        or not con.execute("SELECT 1 FROM sqlite_master WHERE name = 'rows_fts'").fetchone()
        or not indexed(con, row_id)
    ):
        return
    cells = [values.get(name) for name in texts]
    names = ", ".join(texts)
    marks = ", ".join("?" for _ in texts)
    if add:
        con.execute(f"INSERT INTO rows_fts (rowid, {names}) VALUES (?, {marks})", (row_id, *cells))
    else:
        con.execute(
            f"INSERT INTO rows_fts (rows_fts, rowid, {names}) VALUES ('delete', ?, {marks})",
            (row_id, *cells),
        )


def _next_row_id(con: sqlite3.Connection, dataset: Dataset) -> int:
    """Above every row id the dataset ever had, so a row's history never mixes two rows."""
    highest = con.execute("SELECT coalesce(max(rowid), 0) FROM rows").fetchone()[0]
    recorded = (
        RowChange.select(RowChange.row_id)
        .join(DatasetVersion)
        .where(DatasetVersion.dataset == dataset)
        .order_by(RowChange.row_id.desc())
        .limit(1)
        .scalar()
    )
    return max(highest, recorded or 0) + 1


#: The ``expected`` row of a new edit or delete: the row as it is now, but it must be there
#: (an edit of a row that is not would otherwise add it).
PRESENT: Any = object()


def _apply_rows(
    con: sqlite3.Connection,
    dataset: Dataset,
    columns: list[Column],
    edits: Sequence[tuple[int | None, dict | None, dict | None]],
) -> list[tuple[int, dict | None, dict | None]]:
    """Apply (row id, expected before, after) edits in this transaction; give each row's
    before and after as stored. ``expected`` :data:`PRESENT` checks only that the row is
    there (new edits); None skips the check (a new row, or a recorded change replayed)."""
    done = []
    for row_id, expected, after in edits:
        if row_id is None:
            row_id = _next_row_id(con, dataset)
            before = None
        else:
            before = _read_row(con, columns, row_id)
            if expected is PRESENT:
                if before is None:
                    raise VersionError(f"Row {row_id:,} does not exist (any more).")
            elif expected is not None and before != expected:
                raise VersionError(f"Row {row_id:,} is not as recorded; nothing was changed.")
        if before is not None and after is None:
            con.execute("DELETE FROM rows WHERE rowid = ?", (row_id,))
            _fts(con, columns, row_id, before, add=False)
        elif before is None and after is not None:
            full = {c.name: after.get(c.name) for c in columns}
            names = ", ".join(full)
            marks = ", ".join("?" for _ in full)
            con.execute(
                f"INSERT INTO rows (rowid, {names}) VALUES (?, {marks})", (row_id, *full.values())
            )
            _fts(con, columns, row_id, full, add=True)
            after = full
        elif before is not None and after is not None:
            full = {**before, **after}
            sets = ", ".join(f"{name} = ?" for name in after)
            con.execute(f"UPDATE rows SET {sets} WHERE rowid = ?", (*after.values(), row_id))
            _fts(con, columns, row_id, before, add=False)
            _fts(con, columns, row_id, full, add=True)
            after = full
        else:
            raise VersionError(f"Row {row_id:,} does not exist (any more).")
        done.append((row_id, before, after))
    return done


def commit_rows(
    dataset: Dataset,
    user: User | None,
    kind: str,
    summary: str,
    data_dir: Path,
    edits: Sequence[tuple[int | None, dict | None, dict | None]],
    *,
    audit: str,
    reverts: DatasetVersion | None = None,
    audit_details: dict[str, Any] | None = None,
) -> DatasetVersion:
    """A row-level version, in place in the current file. The caller holds :func:`writing`."""
    columns = columns_of(dataset)
    con = connect(dataset_file(data_dir, dataset.storage_key))
    try:
        con.execute("BEGIN IMMEDIATE")
        try:
            drop_search_sets(con)
            changes = _apply_rows(con, dataset, columns, edits)
            # Counted from the changes, not by a scan: count(*) of a million rows is most of
            # a cell edit's time (50 ms of 55).
            added = sum(1 for _row, before, after in changes if before is None and after)
            removed = sum(1 for _row, before, after in changes if before and after is None)
            count = dataset.row_count + added - removed
            _stamp(con, dataset.version + 1)
            with database.atomic():
                version = _next(
                    dataset,
                    user,
                    kind,
                    summary,
                    file_key=dataset.storage_key,
                    whole_file=False,
                    row_count=count,
                    columns=dataset.columns,
                    rows_touched=len(changes),
                    reverts=reverts,
                )
                RowChange.insert_many(
                    [
                        (version.id, row_id, _json(before), _json(after))
                        for row_id, before, after in changes
                    ],
                    fields=[RowChange.version, RowChange.row_id, RowChange.before, RowChange.after],
                ).execute()
                _audit(audit, version, user, audit_details)
            con.execute("COMMIT")
        except BaseException:
            if con.in_transaction:
                con.execute("ROLLBACK")
            raise
    finally:
        con.close()
    return version


def _json(values: dict | None) -> str | None:
    return None if values is None else json.dumps(values, ensure_ascii=False)


def _load(text: str | None) -> dict | None:
    return None if text is None else json.loads(text)


def _changes(version: DatasetVersion) -> list[tuple[int, dict | None, dict | None]]:
    return [
        (c.row_id, _load(c.before), _load(c.after)) for c in version.changes.order_by(RowChange.id)
    ]


# --- undo, redo, go back --------------------------------------------------------------------


def undo(dataset_id: int, base: int | None, user: User, data_dir: Path) -> DatasetVersion:
    """Revert the latest change still in effect, whatever its kind."""
    with writing(dataset_id) as dataset:
        require_current(dataset, base)
        done, _undone = stacks(dataset)
        if len(done) < 2:
            raise VersionError("There is nothing to undo.")
        target, before = done[-1], done[-2]
        summary = f"Undid: {describe(target)}"
        if target.whole_file:
            version = _switch(
                dataset, user, "undo", summary, target.previous_file_key, before, reverts=target
            )
        else:
            inverse = [(row_id, after, before_) for row_id, before_, after in _changes(target)]
            version = commit_rows(
                dataset,
                user,
                "undo",
                summary,
                data_dir,
                reversed(inverse),
                audit="dataset.undo",
                reverts=target,
            )
            return version
        return version


def redo(dataset_id: int, base: int | None, user: User, data_dir: Path) -> DatasetVersion:
    """Re-apply the change the last undo reverted (until a new change is made)."""
    with writing(dataset_id) as dataset:
        require_current(dataset, base)
        _done, undone = stacks(dataset)
        if not undone:
            raise VersionError("There is nothing to redo.")
        target = undone[-1]
        summary = f"Redid: {describe(target)}"
        if target.whole_file:
            _require_file(data_dir, target.file_key)
            return _switch(dataset, user, "redo", summary, target.file_key, target, reverts=target)
        return commit_rows(
            dataset,
            user,
            "redo",
            summary,
            data_dir,
            _changes(target),
            audit="dataset.redo",
            reverts=target,
        )


def _switch(
    dataset: Dataset,
    user: User,
    kind: str,
    summary: str,
    file_key: str,
    state: DatasetVersion,
    *,
    reverts: DatasetVersion,
) -> DatasetVersion:
    """A whole-file undo or redo: another kept file becomes current, with ``state``'s rows."""
    with database.atomic():
        version = _next(
            dataset,
            user,
            kind,
            summary,
            file_key=file_key,
            whole_file=True,
            row_count=state.row_count,
            columns=state.columns,
            rows_touched=reverts.rows_touched,
            reverts=reverts,
        )
        _audit(f"dataset.{kind}", version, user)
    announce_new_file(dataset.id)
    return version


@dataclass(frozen=True)
class GoBackPlan:
    """What going back to a version would change, for the confirmation."""

    target: DatasetVersion
    rows_now: int
    rows_then: int
    columns_now: list[str]
    columns_then: list[str]

    @property
    def columns_added(self) -> list[str]:
        return [c for c in self.columns_then if c not in self.columns_now]

    @property
    def columns_removed(self) -> list[str]:
        return [c for c in self.columns_now if c not in self.columns_then]


def go_back_plan(dataset: Dataset, number: int) -> GoBackPlan:
    target = DatasetVersion.get_or_none(
        (DatasetVersion.dataset == dataset) & (DatasetVersion.number == number)
    )
    if target is None or number >= dataset.version:
        raise VersionError("Choose an earlier version of this dataset to go back to.")
    return GoBackPlan(
        target,
        dataset.row_count,
        target.row_count,
        [c["label"] for c in json.loads(dataset.columns)],
        [c["label"] for c in json.loads(target.columns)],
    )


def rows_at(dataset: Dataset, number: int, data_dir: Path, dest: Path) -> DatasetVersion:
    """Write version ``number``'s rows to a new file ``dest``: its file, with the row-level
    changes made to that file after it reverted, newest first."""
    target = DatasetVersion.get(
        (DatasetVersion.dataset == dataset) & (DatasetVersion.number == number)
    )
    later = (
        DatasetVersion.select()
        .where(
            (DatasetVersion.dataset == dataset)
            & (DatasetVersion.number > number)
            & (DatasetVersion.file_key == target.file_key)
            & ~DatasetVersion.whole_file
        )
        .order_by(DatasetVersion.number.desc())
    )
    copy_file(dataset_file(data_dir, target.file_key), dest)
    columns = _columns(target.columns)
    con = connect(dest)
    try:
        con.execute("BEGIN IMMEDIATE")
        drop_search_sets(con)
        for version in later:
            inverse = [(row_id, after, before) for row_id, before, after in _changes(version)]
            _apply_rows(con, dataset, columns, list(reversed(inverse)))
        build_search_index(con, columns)
        con.execute("COMMIT")
    finally:
        con.close()
    return target


def go_back(
    dataset_id: int, base: int | None, number: int, user: User, data_dir: Path
) -> DatasetVersion:
    """A new version whose rows and columns equal version ``number``'s."""
    with writing(dataset_id) as dataset:
        require_current(dataset, base)
        plan = go_back_plan(dataset, number)
        _require_file(data_dir, plan.target.file_key)
        new_key, _ = _new_file(
            data_dir, lambda partial: rows_at(dataset, number, data_dir, partial)
        )
        return _commit_or_remove(
            data_dir,
            dataset,
            user,
            "go_back",
            f"Went back to version {number:,} ({describe(plan.target)})",
            new_key=new_key,
            columns=_columns(plan.target.columns),
            row_count=plan.target.row_count,
            rows_touched=abs(plan.rows_now - plan.rows_then),
            params={"to": number},
            audit="dataset.go_back",
            audit_details={"to_version": number},
        )


def _new_file(data_dir: Path, fill: Callable[[Path], T]) -> tuple[str, T]:
    """A new dataset file under a fresh key, written by ``fill(partial)`` and made durable
    before anything refers to it; on any failure nothing is left. Gives the key and what
    ``fill`` returned."""
    new_key = file_keys.new_key()
    target = dataset_file(data_dir, new_key)
    partial = target.with_name(target.name + ".partial")
    try:
        made = fill(partial)
        durable_rename(partial, target)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    return new_key, made


def _commit_or_remove(data_dir: Path, *args: Any, new_key: str, **kwargs: Any) -> DatasetVersion:
    """:func:`commit_file`; if it fails, the new file goes (no version refers to it)."""
    try:
        return commit_file(*args, new_key=new_key, **kwargs)
    except BaseException:
        dataset_file(data_dir, new_key).unlink(missing_ok=True)
        raise


def _columns(text: str) -> list[Column]:
    return [Column.from_dict(c) for c in json.loads(text)]


def file_change(
    dataset_id: int,
    base: int | None,
    data_dir: Path,
    change: Callable[[Dataset, Path], tuple[list[Column], int, int, str]],
    *,
    user: User,
    kind: str,
    params: dict[str, Any] | None = None,
    audit: str,
    audit_details: Callable[[str, int], dict[str, Any]] | None = None,
) -> DatasetVersion:
    """A whole-file change made on a copy of the current file: ``change(dataset, copy)``
    changes the copy and returns (columns, rows touched, row count, summary)."""
    with writing(dataset_id) as dataset:
        require_current(dataset, base)

        def fill(partial: Path) -> tuple[list[Column], int, int, str]:
            copy_file(dataset_file(data_dir, dataset.storage_key), partial)
            return change(dataset, partial)

        new_key, (columns, touched, rows, summary) = _new_file(data_dir, fill)
        return _commit_or_remove(
            data_dir,
            dataset,
            user,
            kind,
            summary,
            new_key=new_key,
            columns=columns,
            row_count=rows,
            rows_touched=touched,
            params=params,
            audit=audit,
            audit_details=audit_details(summary, touched) if audit_details else None,
        )


# --- keeping and pruning --------------------------------------------------------------------


def needed_keys(dataset: Dataset, keep_versions: int, keep_days: int) -> set[str]:
    """The files the dataset's history still needs: the current one, what the next undo or
    redo switches to, and the files of every version kept (the last ``keep_versions``, and
    any younger than ``keep_days``)."""
    cutoff = utcnow() - timedelta(days=keep_days)
    keys = {dataset.storage_key}
    for version in DatasetVersion.select().where(
        (DatasetVersion.dataset == dataset)
        & (
            (DatasetVersion.number > dataset.version - keep_versions)
            | (DatasetVersion.created_at >= cutoff)
        )
    ):
        keys.add(version.file_key)
        if version.previous_file_key:
            keys.add(version.previous_file_key)
    done, undone = stacks(dataset)
    if len(done) > 1 and done[-1].whole_file and done[-1].previous_file_key:
        keys.add(done[-1].previous_file_key)
    if undone and undone[-1].whole_file:
        keys.add(undone[-1].file_key)
    return keys


def prune(data_dir: Path, keep_versions: int, keep_days: int) -> int:
    """Delete the files of versions past both limits; returns the bytes freed. A dataset that
    is being changed is passed over (the next run prunes it)."""
    freed = 0
    for dataset_id in [d.id for d in Dataset.select(Dataset.id)]:
        lock = _lock_of(dataset_id)
        if not lock.acquire(blocking=False):
            continue
        try:
            dataset = Dataset.get_or_none(Dataset.id == dataset_id)
            if dataset is None:
                continue
            needed = needed_keys(dataset, keep_versions, keep_days)
            for key in kept_files(dataset) - needed:
                path = _file_or_none(data_dir, key)
                if path is not None and path.exists():
                    size = path.stat().st_size
                    if file_removal.remove(path):  # held by a reader (Windows): next run
                        freed += size
        finally:
            lock.release()
    return freed


def start_pruning(app: Any, interval: float = 3600.0) -> threading.Event:
    """Prune in a background thread now and then every ``interval`` seconds (and soon after a
    bulk change asks for it through the returned event)."""
    wake = threading.Event()
    database_ = database
    _prune_soon[:] = [wake]

    def run() -> None:
        while True:
            try:
                file_removal.retry()
                with app.app_context(), database_.connection_context():
                    freed = prune(
                        app.config["DATA_DIR"],
                        app.config["HISTORY_KEEP_VERSIONS"],
                        app.config["HISTORY_KEEP_DAYS"],
                    )
                if freed:
                    log.info("Pruned old versions: %s bytes freed.", f"{freed:,}")
            except Exception:  # a failed run is retried at the next one
                log.exception("Pruning old versions failed")
            wake.wait(interval)
            wake.clear()

    threading.Thread(target=run, name="sheaf-prune", daemon=True).start()
    return wake


def space(dataset: Dataset, data_dir: Path) -> tuple[int, int, int]:
    """Bytes of the current file, bytes and count of the other files its history keeps."""
    current = dataset_file(data_dir, dataset.storage_key)
    now = current.stat().st_size if current.exists() else 0
    others = [dataset_file(data_dir, k) for k in kept_files(dataset) - {dataset.storage_key}]
    sizes = [p.stat().st_size for p in others if p.exists()]
    return now, sum(sizes), len(sizes)


def available(dataset: Dataset, data_dir: Path) -> set[int]:
    """The numbers of the versions whose rows are still kept (that can be gone back to)."""
    return {
        v.number
        for v in DatasetVersion.select(DatasetVersion.number, DatasetVersion.file_key).where(
            DatasetVersion.dataset == dataset
        )
        if dataset_file(data_dir, v.file_key).exists()
    }


def _require_file(data_dir: Path, key: str | None) -> None:
    if not key or not dataset_file(data_dir, key).exists():
        raise VersionError(
            "That version is older than the history keeps (see the settings “Versions kept per "
            "dataset” and “Days of versions kept”): its rows are no longer on this computer."
        )


# --- start-up ----------------------------------------------------------------------------------


def _file_or_none(data_dir: Path, key: str) -> Path | None:
    """A version's file, or None (logged) for a key Sheaf did not make: start-up and the
    pruner pass over it rather than stop or touch a file outside the data folder."""
    try:
        return dataset_file(data_dir, key)
    except file_keys.BadKey as exc:
        log.warning("%s", exc)
        return None


def recover(data_dir: Path) -> list[int]:
    """Finish row-level versions the application database recorded but whose dataset file
    did not commit (a crash between the two). Returns the datasets mended."""
    mended = []
    query = (
        DatasetVersion.select(DatasetVersion, Dataset)
        .join(Dataset, on=(DatasetVersion.dataset == Dataset.id))
        .where((DatasetVersion.number == Dataset.version) & ~DatasetVersion.whole_file)
    )
    for version in query:
        path = _file_or_none(data_dir, version.file_key)
        if path is None or not path.exists():
            continue
        con = connect(path)
        try:
            if _stamp_of(con) == version.number:
                continue
            columns = columns_of(version.dataset)
            con.execute("BEGIN IMMEDIATE")
            try:
                _apply_rows(con, version.dataset, columns, _changes(version))
                _stamp(con, version.number)
                con.execute("COMMIT")
            except BaseException:
                con.execute("ROLLBACK")
                raise
            mended.append(version.dataset_id)
        finally:
            con.close()
    return mended
