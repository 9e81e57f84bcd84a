"""One small least-recently-used cache for results that are costly to compute and keyed by a
dataset's version (row counts of a filtered view, column profiles): a changed dataset has a new
version, so its old entries are never read again and age out."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

V = TypeVar("V")


class LRUCache(Generic[V]):
    """At most ``size`` entries, safe across the server's threads. The value is computed
    outside the lock, so a slow computation never holds up other readers."""

    def __init__(self, size: int) -> None:
        self._entries: OrderedDict[Hashable, V] = OrderedDict()
        self._lock = threading.Lock()
        self._size = size

    def get(self, key: Hashable, compute: Callable[[], V]) -> tuple[V, bool]:
        """The value for ``key`` and whether it came from the cache."""
        with self._lock:
            if key in self._entries:
                self._entries.move_to_end(key)
                return self._entries[key], True
        value = compute()
        with self._lock:
            self._entries[key] = value
            while len(self._entries) > self._size:
                self._entries.popitem(last=False)
        return value, False

    def peek(self, key: Hashable) -> V | None:
        """The value for ``key`` if it is kept (nothing is computed)."""
        with self._lock:
            if key in self._entries:
                self._entries.move_to_end(key)
                return self._entries[key]
        return None

    def put(self, key: Hashable, value: V) -> None:
        """Keep ``value`` under ``key`` (computed elsewhere, e.g. in the background)."""
        with self._lock:
            self._entries[key] = value
            while len(self._entries) > self._size:
                self._entries.popitem(last=False)
