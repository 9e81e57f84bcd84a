"""The one place that loads a dataset for a request and checks the person's access to it,
and opens its rows for reading. Every dataset route goes through :func:`dataset_or_404`.

A person limited by row rules (``datasets.row_rules``) gets connections that can only see
their rows (``reading.restricted``): every read through :func:`open_rows` and
:func:`rows_of`, whatever its SQL, sees nothing else."""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Iterator
from pathlib import Path

from flask import (
    abort,
    current_app,
    g,
    has_request_context,
    make_response,
    request,
)
from flask_login import current_user

from ...errors import render_error
from ...lru import LRUCache
from ...models import Dataset
from ...sqlite_files import connect
from ..catalog import columns_of, dataset_file, may, visible_dataset
from ..reading import browse
from ..reading.restricted import restrict
from ..row_rules import Restriction, restriction

counts = browse.CountCache()
NOTHING = Restriction(())  # no clause: no row
seen_counts: LRUCache[int] = LRUCache(256)  # rows each restriction sees, by version_key
# A person who sees at least 1 row in this many finds a page's rows quickest by walking the
# table in the page's order; fewer, through the rule column's index.
WALK_IN_ORDER_UP_TO = 100


def dataset_or_404(dataset_id: int, need: str = "read") -> Dataset:
    """The dataset if the signed-in person may ``need`` ("read", "edit", "share", "delete")
    it: 404 when they may not even see it, 403 when they see it but may not do that.

    "all_rows" is edit access to every row and "read_all_rows" read access to every row: what
    changes or shows rows beyond anyone's row rules (cleaning steps, undo, the history) needs
    it, and a person limited by row rules is refused with a sentence saying why."""
    dataset = visible_dataset(current_user, dataset_id)
    if dataset is None:
        abort(404)
    if need in ("all_rows", "read_all_rows"):
        if need == "all_rows" and not may(current_user, dataset, "edit"):
            abort(403)
        if limit_of(dataset) is not None:
            abort(make_response(*render_error(403, ALL_ROWS_NEEDED)))
    elif need != "read" and not may(current_user, dataset, need):
        abort(403)
    elif need == "share" and limit_of(dataset) is not None:
        # Sharing, or removing a rule, would give others (or themselves) rows they cannot see.
        abort(make_response(*render_error(403, SHARING_NEEDS_ALL_ROWS)))
    elif need == "delete" and limit_of(dataset) is not None:
        # Deleting the dataset deletes every row (and its page says how many there are).
        abort(make_response(*render_error(403, DELETING_NEEDS_ALL_ROWS)))
    return dataset


ALL_ROWS_NEEDED = (
    "Row rules let you see only some of this dataset's rows, and this changes or shows rows "
    "beyond them (cleaning steps, appending, replacing, undo, redo, going back and the "
    "dataset's history). Ask the dataset's owner to do it."
)


SHARING_NEEDS_ALL_ROWS = (
    "Row rules let you see only some of this dataset's rows, so you cannot share it or change "
    "its rules: that would give others rows you cannot see. Ask the dataset's owner."
)


DELETING_NEEDS_ALL_ROWS = (
    "Row rules let you see only some of this dataset's rows, so you cannot delete it: that "
    "would delete rows you cannot see. Ask the dataset's owner."
)


def may_whole(dataset: Dataset, action: str) -> bool:
    """Whether the signed-in person may ``action`` ("share", "delete") the dataset as a whole:
    what the pages offer. Someone limited by row rules may not: it reaches rows they cannot
    see."""
    return may(current_user, dataset, action) and limit_of(dataset) is None


def limit_of(dataset: Dataset) -> Restriction | None:
    """What the signed-in person may see of the dataset's rows (None: every row); worked out
    once per request. Outside a request (no person: a job of Sheaf's) there is no limit; in a
    request nobody signed in to sees no row (every page needs signing in: never reached)."""
    if not has_request_context():
        return None
    if not current_user.is_authenticated:
        return NOTHING
    known = g.setdefault("row_limits", {})
    if dataset.id not in known:
        known[dataset.id] = restriction(dataset, current_user._get_current_object())
    return known[dataset.id]


def version_key(dataset: Dataset) -> str:
    """A key for what the person sees of the dataset now, for caches of counts and profiles:
    it changes with the data, and differs between people who see different rows."""
    limit = limit_of(dataset)
    key = f"{dataset.storage_key}:{dataset.updated_at}"
    return key if limit is None else f"{key}:{limit.key}"


def _path(dataset: Dataset) -> Path:
    return dataset_file(current_app.config["DATA_DIR"], dataset.storage_key)


def open_rows(dataset: Dataset) -> sqlite3.Connection:
    """A connection to the dataset's rows for reading, for a caller that closes it itself
    (a streamed export). Every read of a dataset's rows for a request opens them here, so
    what a person may see of them is decided in one place: a person limited by row rules gets
    a connection that sees only their rows."""
    con = connect(_path(dataset))
    limit = limit_of(dataset)
    if limit is not None:
        try:
            restrict(con, limit.clauses, indexed=_through_index(dataset, limit, con))
        except BaseException:
            con.close()
            raise
    return con


def _through_index(dataset: Dataset, limit: Restriction, con: sqlite3.Connection) -> bool:
    """Whether the person's rows are best found through the rule column's index: when they
    are few; when the request filters them further (a page walked in order would then step
    over many rows for each it keeps); when it sorts and the rules are on one column (the
    page walks the index on that column and the sort's, ``browse.ensure_rule_indexes``);
    else by walking the table in the page's order (an export of many rows, too)."""
    if _seen(dataset, limit, con) * WALK_IN_ORDER_UP_TO < dataset.row_count:
        return True
    if has_request_context():
        view = browse.View.from_args(request.args, columns_of(dataset))
        one_column = len({column for column, _ in limit.clauses}) == 1
        return view.filters != () or (view.sort is not None and one_column)
    return False


def _seen(dataset: Dataset, limit: Restriction, con: sqlite3.Connection | None = None) -> int:
    """How many rows ``limit`` lets through (counted on the table itself, before the
    connection is restricted), kept until the data changes."""

    def count() -> int:
        where, params = limit.sql()
        sql = f"SELECT count(*) FROM main.rows WHERE {where}"  # noqa: S608 (c-names and ?)
        if con is not None:
            return con.execute(sql, params).fetchone()[0]
        own = connect(_path(dataset))
        try:
            return own.execute(sql, params).fetchone()[0]
        finally:
            own.close()

    return seen_counts.get(version_key(dataset), count)[0]


@contextlib.contextmanager
def rows_of(dataset: Dataset) -> Iterator[sqlite3.Connection]:
    """The dataset's rows for reading during a ``with`` block (see :func:`open_rows`)."""
    con = open_rows(dataset)
    try:
        yield con
    finally:
        con.close()


def read_page(
    dataset: Dataset,
    con,
    columns,
    view: browse.View,
    size: int,
    searchable: bool,
    *,
    shown=None,
    number: int | None = None,
) -> tuple[browse.Page, int]:
    """The page the request's cursor arguments ask for, and how many rows the view has
    (counted once per view and kept until the data changes). Raises BadView.

    ``shown`` are the columns the rows hold, in order (all by default); ``number`` (already
    checked against the page count) jumps to that page when no cursor argument is given."""
    cursor_given = bool(
        request.args.get("after") or request.args.get("before") or request.args.get("last") == "1"
    )
    page = browse.page(
        con,
        columns,
        view,
        size,
        after=request.args.get("after"),
        before=request.args.get("before"),
        last=request.args.get("last") == "1",
        searchable=searchable,
        shown=shown,
        offset=(number - 1) * size if number and not cursor_given else 0,
    )
    return page, count_of(dataset, con, columns, view, searchable)


def count_of(dataset: Dataset, con, columns, view: browse.View, searchable: bool) -> int:
    """How many rows the view has: counted once per view and kept until the data changes."""
    limit = limit_of(dataset)
    if not view.narrowed:
        return rows_seen(dataset)
    rules = None if limit is None else list(limit.clauses)
    sql, params = browse.count_query(
        view, columns, searchable, from_index=limit is None, rules=rules
    )
    return counts.count(con, version_key(dataset), sql, params)


def rows_seen(dataset: Dataset) -> int:
    """How many rows of the dataset the signed-in person sees (all of them, unless limited
    by row rules): what pages show as the dataset's size."""
    limit = limit_of(dataset)
    return dataset.row_count if limit is None else _seen(dataset, limit)


def row_visible(dataset: Dataset, row: dict | None) -> bool:
    """Whether a row read outside :func:`rows_of` (a form, a row's history) is one the person
    may see: it exists and their row rules, if any, allow it."""
    limit = limit_of(dataset)
    return row is not None and (limit is None or limit.allows(row))
