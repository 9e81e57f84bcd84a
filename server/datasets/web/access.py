"""The one place that loads a dataset for a request and checks the person's access to it,
and opens its rows for reading. Every dataset route goes through :func:`dataset_or_404`."""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Iterator
from pathlib import Path

from flask import (
    abort,
    current_app,
    request,
)
from flask_login import current_user

from ...models import Dataset
from ...sqlite_files import connect
from ..catalog import dataset_file, may, visible_dataset
from ..reading import browse

counts = browse.CountCache()


def dataset_or_404(dataset_id: int, need: str = "read") -> Dataset:
    """The dataset if the signed-in person may ``need`` ("read", "edit", "share", "delete")
    it: 404 when they may not even see it, 403 when they see it but may not do that."""
    dataset = visible_dataset(current_user, dataset_id)
    if dataset is None:
        abort(404)
    if need != "read" and not may(current_user, dataset, need):
        abort(403)
    return dataset


def _path(dataset: Dataset) -> Path:
    return dataset_file(current_app.config["DATA_DIR"], dataset.storage_key)


def open_rows(dataset: Dataset) -> sqlite3.Connection:
    """A connection to the dataset's rows for reading, for a caller that closes it itself
    (a streamed export). Every read of a dataset's rows for a request opens them here, so
    what a person may see of them is decided in one place."""
    return connect(_path(dataset))


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
    if not view.narrowed:
        return dataset.row_count
    sql, params = browse.count_query(view, columns, searchable)
    return counts.count(con, f"{dataset.storage_key}:{dataset.updated_at}", sql, params)
