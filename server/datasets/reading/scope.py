"""The rows a profile or a chart looks at: the table's current view (its filters and search),
as a WHERE clause, and the same view in words for the page that shows the result.

Sorting does not change which rows there are, so a scope leaves it out: the same filters
sorted two ways share one cached profile.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from ..storage import Column
from .browse import NO_VALUE, View, where

# How each filter reads in a sentence ("doctor = Dr. Chen", "amount at least 5").
_SAID = {
    "eq": "=",
    "contains": "contains",
    "min": "at least",
    "max": "at most",
    "in": "is one of",
    "empty": "is empty",
    "notempty": "is not empty",
    "misfit": "does not fit its type",
}


@dataclass(frozen=True)
class Scope:
    """A WHERE clause (without the keyword) over ``rows`` and its parameters; "1" is every row."""

    clause: str = "1"
    params: tuple = ()

    @classmethod
    def of(cls, view: View, columns: list[Column], searchable: bool) -> Scope:
        """The rows of ``view`` (raises BadView as :func:`browse.where` does)."""
        clause, params = where(replace(view, sort=None, descending=False), columns, searchable)
        return cls(clause, tuple(params))

    @property
    def everything(self) -> bool:
        return self.clause == "1"

    def sql(self, condition: str = "1") -> str:
        """``condition`` and this scope, for a WHERE clause (parameters: :attr:`params`)."""
        return condition if self.everything else f"({condition}) AND ({self.clause})"


def describe(view: View, columns: list[Column]) -> str:
    """The view in words ("doctor = Dr. Chen and matching “chen”"); "" for every row."""
    labels = {c.name: c.label for c in columns}
    parts = []
    for f in view.filters:
        label = labels.get(f.column, f.column)
        if f.op in NO_VALUE:
            parts.append(f"{label} {_SAID[f.op]}")
        else:
            value = ", ".join(v.strip() for v in f.value.split("|")) if f.op == "in" else f.value
            parts.append(f"{label} {_SAID[f.op]} {value}")
    if view.search:
        parts.append(f"matching “{view.search}”")
    return " and ".join(parts)


EVERY = Scope()  # every row of the dataset
