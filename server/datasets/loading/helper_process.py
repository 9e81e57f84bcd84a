"""Helper processes for imports: one way to start one, wait for its one answer while watching
for a cancel, and end it. The import's own helper (:mod:`.helper_load`) and a large file's
second half (:mod:`.split_load`) both go through here.

Helpers are started with ``spawn``, never ``fork``: the web server's threads (and the locks
they hold) must not be copied into a child mid-flight.

A helper's log records come back to this process through a queue (``QueueHandler``) and are
written here: only this process writes the log file, so its rotation never renames a file a
helper holds open (refused on Windows, where records were dropped and the rotation misfiled).
"""

from __future__ import annotations

import contextlib
import logging
import logging.handlers
import multiprocessing
import os
import queue
import sys
import threading
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
    answer through ``send``; what it logs is logged here. Raises whatever starting a process
    raises (the caller then does the work itself)."""

    def __init__(
        self, target: Callable[..., None], args: tuple, kwargs: dict | None = None, *, name: str
    ) -> None:
        context = multiprocessing.get_context("spawn")
        self._receive, send = context.Pipe(duplex=False)
        self._logs = _LogRelay(context)
        try:
            self._process = context.Process(
                target=_run,
                args=(self._logs.queue, target, send, *args),
                kwargs=kwargs or {},
                name=name,
                daemon=True,
            )
            self._process.start()
        except BaseException:
            self._receive.close()
            self._logs.stop()
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
        self._logs.stop()


def job_pipe() -> tuple[Any, Any]:
    """(receiving end, sending end) of a pipe that gives a helper started in advance its job
    (see :func:`await_job`)."""
    return multiprocessing.get_context("spawn").Pipe(duplex=False)


def await_job(send: Any, jobs: Any, **shared: Any) -> None:
    """In a helper started before its work is known (a new process takes about 0.1 s to be
    ready, which then overlaps the parent's own preparations): wait for ``(target, args,
    kwargs)`` on ``jobs``, then run ``target(send, *args, **shared, **kwargs)``. ``shared``
    holds what only a new process can be given (a shared counter). No job (the parent let the
    pipe go, or is gone): end quietly."""
    try:
        target, args, kwargs = jobs.recv()
    except (EOFError, OSError):
        return
    finally:
        jobs.close()
    target(send, *args, **shared, **kwargs)


def _run(logs: Any, target: Callable[..., None], *args: Any, **kwargs: Any) -> None:
    """In the helper: log through the queue to the parent, then run the target."""
    root = logging.getLogger()
    for handler in list(root.handlers):
        root.removeHandler(handler)
    root.addHandler(logging.handlers.QueueHandler(logs))
    root.setLevel(logging.INFO)
    target(*args, **kwargs)


class _LogRelay:
    """In the parent: a thread that takes a helper's log records off a queue and hands them to
    this process's loggers (and so to the one rotating log file)."""

    def __init__(self, context: Any) -> None:
        self.queue = context.Queue()
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._relay, name="sheaf-helper-logs", daemon=True)
        self._thread.start()

    def _relay(self) -> None:
        while True:
            try:
                record = self.queue.get(timeout=POLL_SECONDS)
            except queue.Empty:
                if self._done.is_set():
                    return
                continue
            except (EOFError, OSError, ValueError):  # the queue is closed or broken
                return
            if record is None:  # stop(): everything the helper sent came before this
                return
            logging.getLogger(record.name).handle(record)

    def stop(self) -> None:
        """After the helper has ended: hand on what is left, then stop. Idempotent."""
        if self._done.is_set():
            return
        self._done.set()
        with contextlib.suppress(OSError, ValueError):
            self.queue.put(None)  # wakes the relay now, not at its next poll
        self._thread.join(5)
        self.queue.close()
        self.queue.join_thread()


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
    """In a helper, first thing: return a check that says whether the parent is gone, so that
    a killed Sheaf leaves no helper writing on (and holding its ``.partial`` file and the
    upload open, which on Windows keeps the next start from cleaning up).

    The check asks the parent's process handle (``multiprocessing.parent_process()``), which
    works on every system. ``os.getppid()`` does not: Windows keeps the dead parent's id, and
    a helper is never killed with its parent there. On Linux the kernel is also asked to end
    this process with its parent (``PR_SET_PDEATHSIG``), a second guard."""
    parent = multiprocessing.parent_process()
    if sys.platform.startswith("linux"):
        import ctypes
        import signal

        with contextlib.suppress(OSError, AttributeError):
            ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    if parent is None:  # not started by multiprocessing (a test calling the target itself)
        first = os.getppid()
        return lambda: os.getppid() != first
    return lambda: not parent.is_alive()


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
