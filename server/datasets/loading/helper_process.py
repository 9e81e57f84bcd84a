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

POLL_SECONDS = 0.05


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
