"""Peewee lookups whose SQL is built once and then run with new values.

Why: Peewee builds a query's SQL from its expression tree at every execution. For the small
lookups every page makes (the signed-in person, their role and permissions, the dataset and
its column layout) that building cost 0.2 to 0.7 ms each, against about 10 µs for SQLite to run
the statement — together about a quarter of a table page's time (issue #17's benchmark). A
:class:`Prepared` builds its query once, with placeholder numbers where the values go, keeps
the SQL, and later runs that SQL through ``Model.raw`` with the values in their places. The
rows come back as the same model instances (the same ``__data__``) as the query would give.

Only integer values can be placeholders (ids), and the query must select one model's own
columns (no joined model): ``Model.raw`` fills one model per row.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Generic, TypeVar

from peewee import Model, Query

M = TypeVar("M", bound=Model)

# Placeholder values: numbers no id ever takes (ids are positive), told apart by position.
_SLOTS = tuple(-7_700_001 - n for n in range(8))


class Prepared(Generic[M]):
    """``build(*slots)`` returns the Peewee query of ``model``, with each argument used where a
    value goes; the SQL is built on first use (the database must be bound by then)."""

    def __init__(self, model: type[M], build: Callable[..., Query], arity: int) -> None:
        if not 0 < arity <= len(_SLOTS):
            raise ValueError(f"arity must be 1 to {len(_SLOTS)}")
        self._model = model
        self._build = build
        self._arity = arity
        self._compiled: tuple[str, tuple[int | None, ...], tuple[object, ...]] | None = None
        self._lock = threading.Lock()

    def _sql(self) -> tuple[str, tuple[int | None, ...], tuple[object, ...]]:
        compiled = self._compiled
        if compiled is None:
            with self._lock:
                if self._compiled is None:
                    sql, params = self._build(*_SLOTS[: self._arity]).sql()
                    where = tuple(_SLOTS.index(p) if p in _SLOTS else None for p in params)
                    used = {w for w in where if w is not None}
                    if used != set(range(self._arity)):
                        raise ValueError("every argument of build must be used as a value")
                    self._compiled = (sql, where, tuple(params))
                compiled = self._compiled
        return compiled

    def params(self, *values: int) -> list[object]:
        """The statement's parameters for ``values`` (one per argument of ``build``)."""
        if len(values) != self._arity:
            raise TypeError(f"expected {self._arity} values, got {len(values)}")
        _, where, constants = self._sql()
        return [constants[i] if slot is None else int(values[slot]) for i, slot in enumerate(where)]

    def all(self, *values: int) -> list[M]:
        """Every row the query gives for ``values``, as model instances."""
        return list(self._model.raw(self._sql()[0], *self.params(*values)))

    def first(self, *values: int) -> M | None:
        """The first row the query gives for ``values``, or None."""
        return next(iter(self._model.raw(self._sql()[0], *self.params(*values))), None)

    def tuples(self, *values: int) -> list[tuple]:
        """Every row the query gives for ``values``, as tuples of its columns."""
        return list(self._model.raw(self._sql()[0], *self.params(*values)).tuples())
