"""Helper processes for imports: one way to start one, wait for its one answer while watching
for a cancel, and end it. The import's own helper (:mod:`.helper_load`) and a large file's
second half (:mod:`.split_load`) both go through here.

Helpers are started with ``spawn``, never ``fork``: the web server's threads (and the locks
they hold) must not be copied into a child mid-flight.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import sys
from collections.abc import Callable
from typing import Any

from ...importers import Limits

POLL_SECONDS = 0.05
# Room for a helper's Python, its libraries and a streamed read before any sheet is held
# (measured: 27 MiB of address space after a small .xlsx's preview; the rest is headroom).
BASE_MEMORY = 1024**3


def shared_counter() -> Any:
    """A number the helper writes and the parent reads (progress), without a lock."""
    return multiprocessing.get_context("spawn").Value("q", 0, lock=False)


def shared_flag() -> Any:
    """A flag the parent sets and the helper reads (a cancel)."""
    return multiprocessing.get_context("spawn").Event()


class Helper:
    """A started helper process. ``target(send, *args, **kwargs)`` runs in it and sends one
    answer through ``send``. Raises whatever starting a process raises (the caller then does
    the work itself)."""

    def __init__(
        self, target: Callable[..., None], args: tuple, kwargs: dict | None = None, *, name: str
    ) -> None:
        context = multiprocessing.get_context("spawn")
        self._receive, send = context.Pipe(duplex=False)
        try:
            self._process = context.Process(
                target=target, args=(send, *args), kwargs=kwargs or {}, name=name, daemon=True
            )
            self._process.start()
        except BaseException:
            self._receive.close()
            raise
        finally:
            send.close()

    def wait(self, between: Callable[[], None] | None = None) -> object | None:
        """The helper's answer, or None when it ended without one. ``between`` runs between
        polls: it may note a cancel, or raise to stop waiting."""
        try:
            while True:
                if between is not None:
                    between()
                if self._receive.poll(POLL_SECONDS):
                    return self._receive.recv()
                if not self._process.is_alive():
                    return self._receive.recv() if self._receive.poll(0) else None
        except EOFError:
            return None

    def end(self, grace: float = 0) -> None:
        """Give the helper ``grace`` seconds to finish on its own, then kill it. Idempotent."""
        if self._process is None:
            return
        self._process.join(grace)
        if self._process.is_alive():
            self._process.kill()
            self._process.join()
        self._process.close()
        self._process = None
        self._receive.close()


#: How much lower an import's helpers run than the web server: an import takes both cores of
#: a two-core PC, and other people's pages waited behind it (bench/load_bench.py).
HELPER_NICENESS = 10


def lower_priority() -> None:
    """In a helper, first thing: run at a lower CPU priority, where the system has one
    (``os.nice``: Linux, macOS). On Windows the helper keeps the normal priority."""
    if hasattr(os, "nice"):
        with contextlib.suppress(OSError):
            os.nice(HELPER_NICENESS)


def watch_parent() -> Callable[[], bool]:
    """In a helper, first thing: ask the kernel to end this process with its parent (Linux),
    and return a check that says whether the parent is gone (every system), so that a killed
    Sheaf leaves no helper writing on."""
    parent = os.getppid()
    if sys.platform.startswith("linux"):
        import ctypes
        import signal

        with contextlib.suppress(OSError, AttributeError):
            ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    return lambda: os.getppid() != parent


def memory_cap(limits: Limits) -> int:
    """The address space a reading helper may take: room for the largest sheet read whole
    (its cells, the values made of them for Python, the strings) above the base."""
    return BASE_MEMORY + 4 * limits.whole_sheet_max_bytes


def cap_memory(limit: int) -> bool:
    """In a helper: limit this process's address space (RLIMIT_AS), so that a reader that
    tries to take more gets a MemoryError or dies, and the web server's process is untouched.
    Linux enforces it; macOS may refuse to set it, and Windows has no such limit without a Job
    Object (a dependency Sheaf does not take): there the cell budgets are the guard. Returns
    whether the cap is in force."""
    try:
        import resource
    except ImportError:  # Windows
        return False
    try:
        _soft, hard = resource.getrlimit(resource.RLIMIT_AS)
        if hard != resource.RLIM_INFINITY:
            limit = min(limit, hard)
        resource.setrlimit(resource.RLIMIT_AS, (limit, hard))
    except (ValueError, OSError):
        return False
    return True
