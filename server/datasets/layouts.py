"""How each person arranges a dataset's table: the order of its columns, the hidden ones and
their widths. Kept per person and dataset, so a person who may only read a dataset still keeps
their own arrangement, and one person's layout never changes another's.

A layout names columns (``c1``, ``c2``, …). A dataset changes (columns dropped, split, added);
names it no longer has are ignored, and columns the layout does not name yet come at the end,
shown. The layout decides only what the table shows: filters, sorting and exports still see
every column. Loading the dataset (and so deciding whether the person may see it at all) is
the caller's business, through ``dataset_or_404``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from ..db import database
from ..models import ColumnLayout, utcnow
from ..prepared import Prepared
from .storage import Column

MIN_WIDTH, MAX_WIDTH = 40, 1200  # pixels: narrow enough for a flag, wide enough for a note
MAX_NAMES = 5000  # more names than any dataset has columns: a payload past it is not a layout
_NAME = re.compile(r"^c\d{1,5}$")


class LayoutError(ValueError):
    """A layout change that cannot be saved; the message says why, for a person."""


@dataclass(frozen=True)
class Layout:
    order: tuple[str, ...] = ()
    hidden: frozenset[str] = frozenset()
    widths: Mapping[str, int] = field(default_factory=dict)

    def ordered(self, columns: list[Column]) -> list[Column]:
        """Every column, in the person's order: those the layout names first, then new ones."""
        by_name = {c.name: c for c in columns}
        named = [by_name[n] for n in self.order if n in by_name]
        placed = {c.name for c in named}
        return named + [c for c in columns if c.name not in placed]

    def shown(self, columns: list[Column]) -> list[Column]:
        """The columns the table shows, in order; all of them if the layout would hide every
        one (the dataset changed under it), so a table never has no columns."""
        shown = [c for c in self.ordered(columns) if c.name not in self.hidden]
        return shown or self.ordered(columns)

    def widths_of(self, columns: list[Column]) -> dict[str, int]:
        names = {c.name for c in columns}
        return {n: w for n, w in self.widths.items() if n in names}

    def as_json(self) -> str:
        return json.dumps(
            {"order": list(self.order), "hidden": sorted(self.hidden), "widths": dict(self.widths)},
            separators=(",", ":"),
        )

    @classmethod
    def from_json(cls, text: str) -> Layout:
        """The stored layout; anything unreadable is the default layout, never an error page."""
        try:
            data = json.loads(text)
            return cls(
                order=tuple(n for n in data.get("order", []) if isinstance(n, str)),
                hidden=frozenset(n for n in data.get("hidden", []) if isinstance(n, str)),
                widths={
                    n: int(w)
                    for n, w in data.get("widths", {}).items()
                    if isinstance(w, int) and MIN_WIDTH <= w <= MAX_WIDTH
                },
            )
        except (ValueError, TypeError, AttributeError):
            return cls()


def layout_of(user_id: int, dataset_id: int) -> Layout:
    """The person's layout of the dataset (the default one when they have none)."""
    row = _layout_row.first(user_id, dataset_id)
    return Layout.from_json(row.layout) if row else Layout()


# Every table page asks for the person's layout: its SQL is built once (server/prepared.py).
_layout_row = Prepared(
    ColumnLayout,
    lambda user_id, dataset_id: (
        ColumnLayout.select()
        .where((ColumnLayout.user == user_id) & (ColumnLayout.dataset == dataset_id))
        .limit(1)
    ),
    2,
)


def save_layout(user_id: int, dataset_id: int, layout: Layout) -> None:
    with database.atomic():
        (
            ColumnLayout.insert(
                user=user_id, dataset=dataset_id, layout=layout.as_json(), updated_at=utcnow()
            )
            .on_conflict(
                conflict_target=[ColumnLayout.user, ColumnLayout.dataset],
                update={ColumnLayout.layout: layout.as_json(), ColumnLayout.updated_at: utcnow()},
            )
            .execute()
        )


def reset_layout(user_id: int, dataset_id: int) -> None:
    """Back to the dataset's own order, every column shown, widths as the page decides."""
    ColumnLayout.delete().where(
        (ColumnLayout.user == user_id) & (ColumnLayout.dataset == dataset_id)
    ).execute()


def _names(value: object, what: str, columns: list[Column]) -> list[str]:
    """Column names from a payload: a list of well-formed names, those the dataset no longer
    has dropped (a page opened before the dataset changed), duplicates dropped."""
    if not isinstance(value, list | tuple) or len(value) > MAX_NAMES:
        raise LayoutError(f"The {what} must be a list of columns.")
    known = {c.name for c in columns}
    names: list[str] = []
    for name in value:
        if not isinstance(name, str) or not _NAME.match(name):
            raise LayoutError(f"The {what} names something that is not a column.")
        if name in known and name not in names:
            names.append(name)
    return names


def _widths(value: object, columns: list[Column]) -> dict[str, int]:
    if not isinstance(value, Mapping) or len(value) > MAX_NAMES:
        raise LayoutError("The widths must be pairs of a column and a number of pixels.")
    known = {c.name for c in columns}
    widths = {}
    for name, width in value.items():
        if not isinstance(name, str) or not _NAME.match(name):
            raise LayoutError("The widths name something that is not a column.")
        if isinstance(width, str) and width.isdigit() and len(width) < 6:
            width = int(width)
        if isinstance(width, bool) or not isinstance(width, int):
            raise LayoutError("A column's width must be a whole number of pixels.")
        if not MIN_WIDTH <= width <= MAX_WIDTH:
            raise LayoutError(
                f"A column's width must be between {MIN_WIDTH} and {MAX_WIDTH} pixels."
            )
        if name in known:
            widths[name] = width
    return widths


def changed(
    current: Layout,
    columns: list[Column],
    *,
    order: object = None,
    hidden: object = None,
    widths: object = None,
    move: str | None = None,
) -> Layout:
    """``current`` with the changes a person asked for; what is not given stays as it was.

    ``order`` and ``hidden`` are lists of column names, ``widths`` maps names to pixels (merged
    into the widths already kept), ``move`` is ``"up:c3"`` or ``"down:c3"``. Names the dataset
    no longer has are ignored; anything else malformed raises :class:`LayoutError`, and then
    nothing is saved.
    """
    full = [c.name for c in current.ordered(columns)]
    if order is not None:
        named = _names(order, "order", columns)
        full = named + [n for n in full if n not in named]
    new_hidden = set(current.hidden) & set(full)
    if hidden is not None:
        new_hidden = set(_names(hidden, "list of hidden columns", columns))
    new_widths = dict(current.widths_of(columns))
    if widths is not None:
        new_widths.update(_widths(widths, columns))
    if move is not None:
        direction, _, name = move.partition(":")
        if direction not in ("up", "down") or not _NAME.match(name):
            raise LayoutError("Move a column up or down.")
        if name in full:
            at = full.index(name)
            to = at - 1 if direction == "up" else at + 1
            if 0 <= to < len(full):
                full[at], full[to] = full[to], full[at]
    if full and new_hidden >= set(full):
        raise LayoutError("Keep at least one column shown.")
    return Layout(order=tuple(full), hidden=frozenset(new_hidden), widths=new_widths)
