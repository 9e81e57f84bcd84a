"""Cleaning steps: each one a transaction on a copy of the dataset's file, and a version in
its history (server.datasets.versions), so undo is exact whatever the step did; the price is
disk space, one copy of the dataset per step kept."""

from __future__ import annotations

import re
import sqlite3
from dataclasses import replace
from pathlib import Path
from typing import Any

from ...importers.readings import converter, reading_for
from ...importers.types import TYPES
from ...models import Dataset, DatasetVersion, User
from ...sqlite_files import connect
from .. import versions
from ..catalog import columns_of
from ..reading import browse
from ..storage import (
    STORAGE_TYPES,
    Column,
    bad_value,
    build_search_index,
    drop_indexes_on,
    drop_search_sets,
    value_expression,
)

STEPS = {
    "trim": "Trim spaces",
    "case": "Change case",
    "replace": "Find and replace",
    "split": "Split a column",
    "cast": "Change a column's type",
    "fill": "Fill empty cells",
    "dedupe": "Remove duplicate rows",
    "delete_rows": "Delete the rows the filter shows",
    "rename": "Rename a column",
    "drop": "Drop a column",
}
CASES = {"upper": str.upper, "lower": str.lower, "title": str.title}
MAX_SPLIT = 10
MAX_PATTERN = 500


class StepError(ValueError):
    """A step that cannot be applied; the message says why, for a person. Nothing changed."""


def _column(columns: list[Column], name: str | None) -> Column:
    found = next((c for c in columns if c.name == name), None)
    if found is None:
        raise StepError("Choose a column.")
    return found


def _text_column(columns: list[Column], name: str | None) -> Column:
    column = _column(columns, name)
    if column.type != "text":
        raise StepError(f"{column.label} is not a text column; change its type to text first.")
    return column


def _label(columns: list[Column], name: str) -> str:
    return next(c.label for c in columns if c.name == name)


def _next_name(columns: list[Column]) -> str:
    return f"c{max(int(c.name[1:]) for c in columns) + 1}"


def _trim(con, columns, p):
    c = _text_column(columns, p.get("column")).name
    changed = con.execute(
        f"UPDATE rows SET {c} = NULLIF(trim({c}), '') WHERE {c} IS NOT NULL AND {c} != trim({c})"
    ).rowcount
    return columns, changed, f"spaces trimmed in {_label(columns, c)}"


def _case(con, columns, p):
    column = _text_column(columns, p.get("column"))
    mode = p.get("mode")
    if mode not in CASES:
        raise StepError("Choose upper, lower or title case.")
    con.create_function("sheaf_case", 1, CASES[mode], deterministic=True)
    c = column.name
    changed = con.execute(
        f"UPDATE rows SET {c} = sheaf_case({c}) WHERE {c} IS NOT NULL AND {c} != sheaf_case({c})"
    ).rowcount
    return columns, changed, f"{column.label} in {mode} case"


def _replace(con, columns, p):
    column = _text_column(columns, p.get("column"))
    find, replacement = str(p.get("find", "")), str(p.get("replacement", ""))
    if not find:
        raise StepError("Enter the text to find.")
    if len(find) > MAX_PATTERN or len(replacement) > MAX_PATTERN:
        raise StepError(f"Use at most {MAX_PATTERN} characters.")
    c = column.name
    if p.get("regex"):
        pattern = _linear_pattern(find, replacement)
        con.create_function(
            "sheaf_sub", 1, lambda v: pattern.sub(replacement, v) if v else v, deterministic=True
        )
        expression = f"sheaf_sub({c})"
    else:
        expression = f"replace({c}, ?, ?)"
    params = [] if p.get("regex") else [find, replacement]
    changed = con.execute(
        f"UPDATE rows SET {c} = NULLIF({expression}, '') WHERE {c} IS NOT NULL "
        f"AND {c} != {expression}",
        params * 2,
    ).rowcount
    return columns, changed, f"in {column.label}: “{find}” → “{replacement}”"


def _linear_pattern(find: str, replacement: str) -> Any:
    """``find`` compiled by RE2, whose matching time grows linearly with the text: a pattern
    like ``(a+)+$`` that takes Python's ``re`` hours (holding every other person's requests,
    as it keeps the interpreter lock) takes microseconds. RE2 has no backreferences or
    look-arounds; such patterns are refused with a message."""
    import re2

    options = re2.Options()
    options.log_errors = False
    options.max_mem = 64 << 20  # a pattern that needs more is refused, not run
    try:
        pattern = re2.compile(find, options=options)
        pattern.sub(replacement, "")
    except (re2.error, IndexError, re.error) as exc:
        reason = exc.args[0] if exc.args else exc
        if isinstance(reason, bytes):
            reason = reason.decode("utf-8", "replace")
        raise StepError(f"That regular expression cannot be used: {reason}.") from None
    return pattern


def _split(con, columns, p):
    column = _text_column(columns, p.get("column"))
    delimiter = str(p.get("delimiter", ""))
    if not delimiter:
        raise StepError("Enter the delimiter to split on.")
    parts = (
        con.execute(
            f"SELECT max((length({column.name}) - length(replace({column.name}, ?, ''))) "
            f"/ length(?)) + 1 FROM rows",
            (delimiter, delimiter),
        ).fetchone()[0]
        or 1
    )
    if parts > MAX_SPLIT:
        raise StepError(
            f"Some cells would split into {parts} parts; Sheaf makes at most "
            f"{MAX_SPLIT} new columns."
        )
    con.create_function(
        "sheaf_part",
        2,
        lambda value, i: (
            (value.split(delimiter)[i] or None)
            if value is not None and i < len(value.split(delimiter))
            else None
        ),
        deterministic=True,
    )
    added = []
    labels = {c.label.casefold() for c in columns}
    for i in range(parts):
        name = _next_name(columns + added)
        label, n = f"{column.label} {i + 1}", 1
        while label.casefold() in labels:
            n += 1
            label = f"{column.label} {i + 1} ({n})"
        labels.add(label.casefold())
        con.execute(f"ALTER TABLE rows ADD COLUMN {name} TEXT")
        con.execute(f"UPDATE rows SET {name} = sheaf_part({column.name}, ?)", (i,))
        added.append(Column(name, label, "text"))
    changed = con.execute(f"SELECT count({column.name}) FROM rows").fetchone()[0]
    return columns + added, changed, f"{column.label} into {parts} columns"


def _read_as(con, column: Column, kind: str, order: str) -> str | None:
    """SQL that gives the column's text in the form ``kind`` stores, when its values are
    written another way (the reading is decided from the first 2,000 values, as an import's;
    ``order`` decides dates that could be read either way); None when SQLite reads them as
    they are."""
    values = [
        row[0]
        for row in con.execute(
            f"SELECT {column.name} FROM rows WHERE {column.name} IS NOT NULL LIMIT 2000"
        )
    ]
    reading = reading_for(kind, values, order, None)
    convert = converter(kind, reading)
    if convert is None:
        return None
    con.create_function("sheaf_read", 1, convert, deterministic=True)
    return f"sheaf_read({column.name})"


def _cast(con, columns, p):
    column = _column(columns, p.get("column"))
    kind = p.get("type")
    if kind not in TYPES:
        raise StepError("Choose the new type.")
    if kind == column.type:
        raise StepError(f"{column.label} is already {kind}.")
    temp = "sheaf_cast"
    con.execute(f"ALTER TABLE rows ADD COLUMN {temp} {STORAGE_TYPES[kind]}")
    source = column.name
    if column.type == "boolean":
        source = f"CASE {column.name} WHEN 1 THEN 'true' WHEN 0 THEN 'false' END"
    elif column.type == "text":  # read as the import would: day-first dates, decimal commas…
        order = p.get("order") if p.get("order") in ("dmy", "mdy") else "dmy"
        source = _read_as(con, column, kind, order) or source
    con.execute(f"UPDATE rows SET {temp} = {value_expression(source, kind)}")
    probe = Column(temp, column.label, kind)
    failed = con.execute(
        f"SELECT rowid, {column.name} FROM rows WHERE {bad_value(probe)} ORDER BY rowid LIMIT 5"
    ).fetchall()
    failures = con.execute(f"SELECT count(*) FROM rows WHERE {bad_value(probe)}").fetchone()[0]
    emptied = p.get("on_bad") == "empty"  # asked for; by default they stay as written
    if emptied:
        con.execute(f"UPDATE rows SET {temp} = NULL WHERE {bad_value(probe)}")
    _drop_physical(con, column.name)
    con.execute(f"ALTER TABLE rows RENAME COLUMN {temp} TO {column.name}")
    new_columns = [Column(c.name, c.label, kind) if c.name == column.name else c for c in columns]
    summary = f"{column.label} to {kind}"
    if failures:
        shown = ", ".join(f"row {r}: “{v}”" for r, v in failed)
        values = "1 value does not fit" if failures == 1 else f"{failures:,} values do not fit"
        done = "emptied" if emptied else "kept as written and marked"
        summary += (
            f"; {values} the new type, {done} ({shown}"
            + ("…" if failures > len(failed) else "")
            + ")"
        )
    total = con.execute("SELECT count(*) FROM rows").fetchone()[0]
    return new_columns, total, summary


def _fill(con, columns, p):
    column = _column(columns, p.get("column"))
    raw = str(p.get("value", "")).strip()
    if not raw:
        raise StepError("Enter the value to fill the empty cells with.")
    try:
        value = browse._convert(column, raw)
    except browse.BadView as exc:
        raise StepError(str(exc)) from None
    changed = con.execute(
        f"UPDATE rows SET {column.name} = ? WHERE {column.name} IS NULL", (value,)
    ).rowcount
    return columns, changed, f"{column.label} with “{raw}”"


def _dedupe(con, columns, p):
    chosen = p.get("columns") or [c.name for c in columns]
    names = [_column(columns, name).name for name in chosen]
    changed = con.execute(
        f"DELETE FROM rows WHERE rowid NOT IN "
        f"(SELECT min(rowid) FROM rows GROUP BY {', '.join(names)})"
    ).rowcount
    labels = [c.label for c in columns if c.name in names]
    return columns, changed, "by " + (", ".join(labels) if p.get("columns") else "all columns")


def _delete_rows(con, columns, p):
    view = browse.View.from_args(p.get("view") or {}, columns)
    if not view.narrowed:
        raise StepError("Filter or search first: this step deletes the rows the view shows.")
    try:
        browse.require_search_index(con, view)
        clause, params = browse.where(view, columns, browse.has_search_index(con))
    except browse.BadView as exc:
        raise StepError(str(exc)) from None
    changed = con.execute(f"DELETE FROM rows WHERE {clause}", params).rowcount
    return columns, changed, "matching " + ", ".join(f"{k}={v}" for k, v in view.args().items())


def _rename(con, columns, p):
    column = _column(columns, p.get("column"))
    label = " ".join(str(p.get("label", "")).split())[:200]
    if not label:
        raise StepError("Enter the new name.")
    if any(c.label.casefold() == label.casefold() and c.name != column.name for c in columns):
        raise StepError(f"Another column is already called {label}.")
    return (
        [replace(c, label=label) if c.name == column.name else c for c in columns],
        0,
        f"{column.label} → {label}",
    )


def _drop(con, columns, p):
    column = _column(columns, p.get("column"))
    if len(columns) == 1:
        raise StepError("A dataset needs at least one column.")
    _drop_physical(con, column.name)
    return [c for c in columns if c.name != column.name], 0, column.label


def _drop_physical(con: sqlite3.Connection, name: str) -> None:
    con.execute("DROP TABLE IF EXISTS rows_fts")  # it names the column; rebuilt after the step
    drop_indexes_on(con, name)  # its own index and any row rule's pair holding it
    con.execute(f"ALTER TABLE rows DROP COLUMN {name}")


OPERATIONS = {
    "trim": _trim,
    "case": _case,
    "replace": _replace,
    "split": _split,
    "cast": _cast,
    "fill": _fill,
    "dedupe": _dedupe,
    "delete_rows": _delete_rows,
    "rename": _rename,
    "drop": _drop,
}


def run_operation(
    path: Path, columns: list[Column], kind: str, params: dict[str, Any]
) -> tuple[list[Column], int, str, int]:
    """Apply one step to the dataset file at ``path`` in one transaction. Returns the new
    columns, the rows changed, a summary and the row count; on error nothing is changed."""
    if kind not in OPERATIONS:
        raise StepError("Choose a step.")
    con = connect(path)
    try:
        con.execute("BEGIN IMMEDIATE")
        try:
            drop_search_sets(con)
            new_columns, changed, summary = OPERATIONS[kind](con, columns, params)
            build_search_index(con, new_columns)
            rows = con.execute("SELECT count(*) FROM rows").fetchone()[0]
            con.execute("COMMIT")
        except BaseException:
            if con.in_transaction:  # SQLite rolls back by itself on a full disk
                con.execute("ROLLBACK")
            raise
    finally:
        con.close()
    return new_columns, changed, summary, rows


def apply_step(
    dataset: Dataset,
    kind: str,
    params: dict[str, Any],
    user: User,
    data_dir: Path,
    base: int | None,
) -> DatasetVersion:
    """Apply a step, made on version ``base``, to a copy of the dataset's file: a new version."""
    if kind not in OPERATIONS:
        raise StepError("Choose a step.")

    def change(current: Dataset, copy: Path) -> tuple[list[Column], int, int, str]:
        columns, changed, summary, rows = run_operation(copy, columns_of(current), kind, params)
        return columns, changed, rows, f"{STEPS[kind]}: {summary}"

    return versions.file_change(
        dataset.id,
        base,
        data_dir,
        change,
        user=user,
        kind="step",
        params={"step": kind, "params": params},
        audit="dataset.step",
        audit_details=lambda summary, changed: {"step": STEPS[kind], "rows_changed": changed},
    )
