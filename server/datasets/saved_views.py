"""Saved views: a name for what a person is looking at in a dataset's table (search, filters,
sort and the arrangement of its columns), kept for themselves or shared with everyone who may
read the dataset.

A view names columns by their identity (``c1``, ``c2``, …), which a rename keeps, and also
keeps each column's name and type as they were when it was saved. So a link to a view stays
valid after the dataset changes: a renamed column is still found; after the rows were replaced
(the columns are then new ones) a column is found by its name; and a view that no longer
applies (a column gone, a filter that does not fit the column's new type) says why in words
instead of failing. Whether a person may see the dataset at all is the caller's business
(``dataset_or_404``); this module decides which of its views they see and may change.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from peewee import IntegrityError

from ..audit_trail import record
from ..db import database
from ..importers.types import TYPE_LABELS
from ..models import Dataset, DatasetVersion, SavedView, User, name_key, utcnow
from ..prepared import Prepared
from .catalog import can_share, columns_of
from .layouts import Layout
from .reading import browse
from .storage import Column

NAME_MAX = 100


class ViewError(ValueError):
    """A view that cannot be saved, renamed or deleted; the message says why, for a person."""


@dataclass(frozen=True)
class Opened:
    """A saved view applied to the dataset as it is now.

    ``args`` are the table's query arguments for everything that still applies, ``layout`` the
    columns' arrangement (None: the view keeps none) and ``problems`` say, in words, what no
    longer applies (empty: the view opens as it was saved)."""

    args: dict[str, str]
    layout: Layout | None
    problems: list[str] = field(default_factory=list)


def clean_name(name: str | None) -> str:
    """The name as kept: spaces collapsed; refused when empty or too long."""
    cleaned = " ".join(str(name or "").split())
    if not cleaned:
        raise ViewError("Give the view a name.")
    if len(cleaned) > NAME_MAX:
        raise ViewError(f"A view's name has at most {NAME_MAX} characters.")
    return cleaned


def spec_of(view: browse.View, layout: Layout | None, columns: list[Column]) -> dict[str, Any]:
    """What is kept of a view: JSON-ready, with the columns as they are now."""
    spec: dict[str, Any] = {
        "search": view.search,
        "sort": view.sort,
        "descending": view.descending,
        "filters": [{"column": f.column, "op": f.op, "value": f.value} for f in view.filters],
        "columns": {c.name: {"label": c.label, "type": c.type} for c in columns},
    }
    if layout is not None and (layout.order or layout.hidden):
        spec["order"] = [c.name for c in layout.ordered(columns)]
        spec["hidden"] = sorted(layout.hidden & {c.name for c in columns})
    return spec


def spec_dict(saved: SavedView) -> dict[str, Any]:
    """The view's kept spec; anything unreadable is an empty view, never an error page."""
    try:
        data = json.loads(saved.spec)
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def _replaced_since(dataset: Dataset, number: int) -> bool:
    """Whether the dataset's rows were replaced by a file after version ``number``: its
    columns are new ones then, and only their names say which is which."""
    return (
        DatasetVersion.select()
        .where(
            (DatasetVersion.dataset == dataset.id)
            & (DatasetVersion.number > number)
            & (DatasetVersion.kind == "replace")
        )
        .exists()
    )


class _Columns:
    """Finds a kept column in the dataset as it is now."""

    def __init__(self, spec: dict[str, Any], columns: list[Column], replaced: bool) -> None:
        kept = spec.get("columns")
        self.kept: dict[str, dict] = kept if isinstance(kept, dict) else {}
        self.by_name = {c.name: c for c in columns}
        self.by_label = {c.label.casefold(): c for c in columns}
        self.replaced = replaced

    def label(self, name: str) -> str:
        was = self.kept.get(name)
        return str(was.get("label")) if isinstance(was, dict) and was.get("label") else name

    def find(self, name: object) -> Column | None:
        if not isinstance(name, str):
            return None
        now = self.by_name.get(name)
        if not self.replaced:
            return now
        label = self.label(name).casefold()
        if now is not None and now.label.casefold() == label:
            return now
        return self.by_label.get(label)

    def was_type(self, name: str) -> str | None:
        was = self.kept.get(name)
        return was.get("type") if isinstance(was, dict) else None


def _said(op: str, value: str) -> str:
    words = browse.OPERATORS.get(op, op)
    return words if op in browse.NO_VALUE else f"{words} “{value.replace('|', ', ')}”"


def open_view(saved: SavedView, dataset: Dataset) -> Opened:
    """The view applied to ``dataset`` as it is now: what still applies, and why the rest
    does not."""
    spec = spec_dict(saved)
    columns = columns_of(dataset)
    found = _Columns(spec, columns, _replaced_since(dataset, saved.dataset_version))
    problems: list[str] = []
    args: dict[str, str] = {}
    search = str(spec.get("search") or "")[: browse.MAX_VALUE]
    if search and not any(c.type == "text" for c in columns):
        problems.append(f"It searches for “{search}”, and this dataset has no text columns now.")
    elif search:
        args["q"] = search
    sort = spec.get("sort")
    if sort:
        column = found.find(sort)
        if column is None:
            problems.append(
                f"It is sorted by {found.label(sort)}, a column this dataset no longer has."
            )
        else:
            args["sort"] = column.name
            if spec.get("descending"):
                args["dir"] = "desc"
    for kept in spec.get("filters") or []:
        if not isinstance(kept, dict):
            continue
        name, op, value = kept.get("column"), str(kept.get("op", "")), str(kept.get("value", ""))
        if op not in browse.OPERATORS:
            continue
        label = found.label(str(name))
        column = found.find(name)
        if column is None:
            problems.append(
                f"It keeps the rows where {label} {_said(op, value)}, and this dataset no "
                f"longer has a column {label}."
            )
            continue
        if op not in browse.OPERATORS_BY_TYPE[column.type]:
            problems.append(
                f"It keeps the rows where {column.label} {_said(op, value)}, which does not "
                f"apply now that {column.label} holds {TYPE_LABELS[column.type].lower()} "
                f"values."
            )
            continue
        one = browse.View(filters=(browse.Filter(column.name, op, value),))
        try:
            browse.where(one, columns, searchable=True)
        except browse.BadView as exc:
            was = found.was_type(str(name))
            changed = (
                f" (it was {TYPE_LABELS.get(was, was).lower()})"
                if was and was != column.type
                else ""
            )
            problems.append(f"Its filter no longer fits {column.label}{changed}: {exc}")
            continue
        args[f"{column.name}.{op}"] = value or "1"
    layout = None
    if isinstance(spec.get("order"), list):
        order = [c.name for n in spec["order"] if (c := found.find(n)) is not None]
        hidden = {c.name for n in spec.get("hidden") or [] if (c := found.find(n)) is not None}
        shown = [n for n in order if n not in hidden]
        if shown or not order:
            layout = Layout(order=tuple(order), hidden=frozenset(hidden))
    return Opened(args=args, layout=layout, problems=problems)


def _direction(kind: str | None, spec: dict[str, Any]) -> str:
    """The sort's direction as the table says it: "newest first", "A to Z"…"""
    down = bool(spec.get("descending"))
    if kind in ("date", "datetime"):
        return "newest first" if down else "oldest first"
    if kind == "text":
        return "Z to A" if down else "A to Z"
    return "largest first" if down else "smallest first"


def in_words(saved: SavedView) -> str:
    """What the view shows, in a line: "Doctor is “Dr. Chen” · sorted by Date, newest
    first · 9 of 13 columns" (with the names the columns had when it was saved)."""
    spec = spec_dict(saved)
    found = _Columns(spec, [], False)
    parts = []
    if spec.get("search"):
        parts.append(f"search “{spec['search']}”")
    for kept in spec.get("filters") or []:
        if isinstance(kept, dict) and kept.get("op") in browse.OPERATORS:
            parts.append(
                f"{found.label(str(kept.get('column')))} "
                f"{_said(kept['op'], str(kept.get('value', '')))}"
            )
    if spec.get("sort"):
        sort = str(spec["sort"])
        parts.append(f"sorted by {found.label(sort)}, {_direction(found.was_type(sort), spec)}")
    order, hidden = spec.get("order"), spec.get("hidden") or []
    if isinstance(order, list) and hidden:
        parts.append(f"{len(order) - len(hidden)} of {len(order)} columns")
    return " · ".join(parts) or "every row, as the dataset has them"


# --- who sees and changes which view -------------------------------------------------------------


# Every table page asks for the dataset's views: built once (Peewee building this query cost
# more than SQLite answering it).
_views_seen = Prepared(
    SavedView,
    lambda dataset_id, user_id: (
        SavedView.select()
        .where(
            (SavedView.dataset == dataset_id)
            & ((SavedView.owner == user_id) | (SavedView.shared == True))  # noqa: E712
        )
        .order_by(SavedView.name_key, SavedView.id)
    ),
    2,
)


def views_of(user: User, dataset: Dataset) -> list[SavedView]:
    """The dataset's views ``user`` sees: their own and the shared ones, by name, each with
    its ``owner`` loaded (pages name the author), in one query for them all."""
    views = _views_seen.all(dataset.id, user.id)
    if views:
        owners = {v.owner_id for v in views}
        authors = {u.id: u for u in User.select().where(User.id.in_(owners))}
        for saved in views:
            saved.owner = authors[saved.owner_id]
    return views


def view_of(user: User, dataset: Dataset, view_id: int) -> SavedView | None:
    """One of the dataset's views, if ``user`` sees it."""
    return next((v for v in views_of(user, dataset) if v.id == view_id), None)


def may_change(user: User, saved: SavedView, dataset: Dataset) -> bool:
    """Its author renames and deletes a view; so does anyone who may manage the dataset's
    sharing (a shared view speaks to everyone who reads the dataset)."""
    return saved.owner_id == user.id or can_share(user, dataset)


# --- changes -------------------------------------------------------------------------------------


def save_view(
    user: User,
    dataset: Dataset,
    name: str,
    view: browse.View,
    layout: Layout | None,
    *,
    shared: bool = False,
) -> SavedView:
    """Keep ``view`` (and the columns' arrangement) under ``name``. Raises ViewError."""
    name = clean_name(name)
    spec = spec_of(view, layout, columns_of(dataset))
    try:
        with database.atomic():
            saved = SavedView.create(
                dataset=dataset.id,
                owner=user.id,
                name=name,
                name_key=name_key(name),
                shared=shared,
                spec=json.dumps(spec, ensure_ascii=False, separators=(",", ":")),
                dataset_version=dataset.version,
            )
            record(
                "view.saved",
                object_type="dataset",
                object_id=dataset.id,
                actor=user,
                details={"view": saved.id, "name": name, "shared": shared},
            )
    except IntegrityError:
        raise ViewError(
            f"You already have a view called {name} on {dataset.name}; choose another name."
        ) from None
    return saved


def rename_view(saved: SavedView, name: str, by: User) -> SavedView:
    """Give the view another name (its author's other views of the dataset keep theirs)."""
    name = clean_name(name)
    before = saved.name
    try:
        with database.atomic():
            changed = (
                SavedView.update(name=name, name_key=name_key(name), updated_at=utcnow())
                .where(SavedView.id == saved.id)
                .execute()
            )
            if not changed:
                raise ViewError("This view was deleted meanwhile; nothing was renamed.")
            record(
                "view.renamed",
                object_type="dataset",
                object_id=saved.dataset_id,
                actor=by,
                details={"view": saved.id, "name": [before, name]},
            )
    except IntegrityError:
        raise ViewError(
            f"{saved.owner.display_name} already has a view called {name} on this dataset; "
            "choose another name."
        ) from None
    saved.name = name
    return saved


def set_shared(saved: SavedView, shared: bool, by: User) -> SavedView:
    """Share the view with everyone who may read the dataset, or make it its author's alone
    again. Nothing is recorded when it already was."""
    with database.atomic():
        changed = (
            SavedView.update(shared=shared, updated_at=utcnow())
            .where((SavedView.id == saved.id) & (SavedView.shared != shared))
            .execute()
        )
        if changed:
            record(
                "view.shared" if shared else "view.unshared",
                object_type="dataset",
                object_id=saved.dataset_id,
                actor=by,
                details={"view": saved.id, "name": saved.name},
            )
        elif not SavedView.select().where(SavedView.id == saved.id).exists():
            raise ViewError("This view was deleted meanwhile; nothing was changed.")
    saved.shared = shared
    return saved


def delete_view(saved: SavedView, by: User) -> bool:
    """Delete the view; False if it was already gone (deleted meanwhile by someone else)."""
    with database.atomic():
        gone = SavedView.delete().where(SavedView.id == saved.id).execute()
        if gone:
            record(
                "view.deleted",
                object_type="dataset",
                object_id=saved.dataset_id,
                actor=by,
                details={"view": saved.id, "name": saved.name, "shared": bool(saved.shared)},
            )
    return bool(gone)
