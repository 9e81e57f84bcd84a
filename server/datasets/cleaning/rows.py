"""Changing rows by hand: a cell, a whole row, a new row, rows deleted. Each is a row-level
version (server.datasets.versions): the rows before and after are recorded, nothing is copied,
and undo applies the inverse.

Values arrive as text (a form field, a cell typed in the table) and are stored as the column's
type stores them; a value that does not fit is refused with a message for the person, and
nothing changes.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from ...models import Dataset, DatasetVersion, RowChange, User
from .. import versions
from ..catalog import columns_of
from ..storage import WANTED, Column, typed_value

MAX_TEXT = 100_000
MAX_ROWS_DELETED = 10_000
# Whether a row (values by column name) is one the person may see, by their row rules.
Within = Callable[[Mapping[str, Any]], bool] | None
OUTSIDE_RULES = (
    "Your row rules let you see only some rows, and after this change the row would no longer "
    "be one of them; keep {what} as your rules need."
)


class RowError(ValueError):
    """A value or a row that cannot be stored; the message says why. Nothing changed."""


def parse_value(column: Column, raw: str | None) -> Any:
    """``raw`` as ``column`` stores it: empty text is an empty cell."""
    text = "" if raw is None else str(raw)
    if column.type != "text":
        text = text.strip()
    if text == "":
        return None
    try:
        value = typed_value(column.type, text)
    except OverflowError:
        raise RowError(f"{column.label}: {text[:40]} is too large for a whole number.") from None
    except ValueError:
        raise RowError(f"{column.label}: “{text[:40]}” is not {WANTED[column.type]}.") from None
    if column.type != "text":
        return value
    if len(text) > MAX_TEXT:
        raise RowError(f"{column.label}: at most {MAX_TEXT:,} characters.")
    return text


def _typed(columns: list[Column], values: Mapping[str, Any]) -> dict[str, Any]:
    """Values by column name, checked; a name the dataset does not have is refused."""
    by_name = {c.name: c for c in columns}
    unknown = [name for name in values if name not in by_name]
    if unknown:
        raise RowError("The dataset's columns have changed: open the row again.")
    return {name: parse_value(by_name[name], raw) for name, raw in values.items()}


def edit_row(
    dataset_id: int,
    base: int | None,
    row_id: int,
    values: Mapping[str, str | None],
    user: User,
    data_dir: Path,
    seen: Mapping[str, str] | None = None,
    within: Within = None,
) -> DatasetVersion:
    """Change some cells of one row (``values`` by column name, as text). ``seen``: the cells
    as the person saw them (as the table shows them); if one holds something else now, someone
    changed it meanwhile and the edit is refused, whatever version the page believes in.
    ``within``: the person's row rules; the row must satisfy them before and after."""
    with versions.writing(dataset_id) as dataset:
        columns = columns_of(dataset)
        if within is not None:
            now = versions.read_row(dataset, columns, row_id, data_dir)
            if now is None or not within(now):  # said as for a row that is not there
                raise RowError(f"Row {row_id:,} does not exist (any more).")
        versions.require_rows_unchanged(dataset, base, [row_id])
        if seen:
            _require_seen(dataset, columns, row_id, seen, data_dir)
        typed = _typed(columns, values)
        if not typed:
            raise RowError("Nothing to change.")
        if within is not None and not within({**now, **typed}):
            raise RowError(OUTSIDE_RULES.format(what=_ruled(columns, typed, now, within)))
        labels = [c.label for c in columns if c.name in typed]
        what = labels[0] if len(labels) == 1 else f"{len(labels)} cells"
        return versions.commit_rows(
            dataset,
            user,
            "edit",
            f"Edited {what} of row {row_id:,}",
            data_dir,
            [(row_id, versions.PRESENT, typed)],
            audit="dataset.row_edited",
            audit_details={"row": row_id, "columns": labels},
        )


def shown(column: Column, value: Any) -> str:
    """A stored value as the table shows it (what a person saw before changing it)."""
    if value is None:
        return ""
    if column.type == "boolean" and value in (0, 1):
        return "yes" if value == 1 else "no"
    return str(value)


def _require_seen(
    dataset: Dataset, columns: list[Column], row_id: int, seen: Mapping[str, str], data_dir: Path
) -> None:
    by_name = {c.name: c for c in columns}
    now = versions.read_row(dataset, columns, row_id, data_dir)
    if now is None:
        raise RowError(f"Row {row_id:,} does not exist (any more).")
    changed = [
        name
        for name, text in seen.items()
        if name in by_name and shown(by_name[name], now[name]) != text
    ]
    if changed:
        last = versions.last_change_of_row(dataset, row_id)
        if last is not None:
            raise versions.Stale([last])
        raise RowError("This cell changed after you saw it; reload the page and try again.")


def _ruled(columns: list[Column], typed: dict, now: dict, within: Callable) -> str:
    """The changed cells that take the row outside the rules (named for the message)."""
    labels = [
        c.label for c in columns if c.name in typed and not within({**now, c.name: typed[c.name]})
    ]
    return ", ".join(labels) or "the row's values"


def add_row(
    dataset_id: int,
    base: int | None,
    values: Mapping[str, str | None],
    user: User,
    data_dir: Path,
    within: Within = None,
) -> DatasetVersion:
    """A new row, after every other. Changes since ``base`` do not matter unless they removed
    one of the row's columns. ``within``: the person's row rules, which the row must satisfy."""
    if base is None:
        raise RowError("This page is out of date: open it again and repeat the change.")
    with versions.writing(dataset_id) as dataset:
        typed = _typed(columns_of(dataset), values)
        if within is not None and not within(typed):
            raise RowError(
                "Your row rules let you see only some rows, and a row you add must be one of "
                "them: fill in the columns your rules name with a value they allow."
            )
        return versions.commit_rows(
            dataset,
            user,
            "add",
            "Added a row",
            data_dir,
            [(None, None, typed)],
            audit="dataset.row_added",
        )


def delete_rows(
    dataset_id: int,
    base: int | None,
    row_ids: Sequence[int],
    user: User,
    data_dir: Path,
    within: Within = None,
) -> DatasetVersion:
    """Delete the chosen rows (refused when one of them changed since ``base``, or, with
    ``within``, the person's row rules, when one is not among the rows they see)."""
    chosen = sorted(set(row_ids))
    if not chosen:
        raise RowError("Choose the rows to delete.")
    if len(chosen) > MAX_ROWS_DELETED:
        raise RowError(
            f"Delete at most {MAX_ROWS_DELETED:,} rows at once; for more, filter the table "
            "and use the cleaning step “Delete the rows the filter shows”."
        )
    with versions.writing(dataset_id) as dataset:
        if within is not None:
            columns = columns_of(dataset)
            for row_id in chosen:
                now = versions.read_row(dataset, columns, row_id, data_dir)
                if now is None or not within(now):
                    raise RowError(f"Row {row_id:,} does not exist (any more).")
        versions.require_rows_unchanged(dataset, base, chosen)
        count = len(chosen)
        return versions.commit_rows(
            dataset,
            user,
            "delete",
            f"Deleted {count:,} {'row' if count == 1 else 'rows'}",
            data_dir,
            [(row_id, versions.PRESENT, None) for row_id in chosen],
            audit="dataset.rows_deleted",
            audit_details={"rows": chosen[:100]},
        )


def row_history(dataset: Dataset, row_id: int) -> list[tuple[DatasetVersion, dict, dict]]:
    """Each version that changed the row, newest first, with the row before and after."""
    changes = (
        RowChange.select(RowChange, DatasetVersion)
        .join(DatasetVersion)
        .where((DatasetVersion.dataset == dataset) & (RowChange.row_id == row_id))
        .order_by(DatasetVersion.number.desc())
    )
    return [
        (
            change.version,
            json.loads(change.before) if change.before else {},
            json.loads(change.after) if change.after else {},
        )
        for change in changes
    ]
