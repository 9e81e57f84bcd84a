"""An import reads and writes its rows in a helper process of its own.

Parsing a file is Python work, and Python runs one thread at a time per process: with the
import in the web server's process, every page waited its turn behind the import (measured with
one person browsing during two imports: a table page's median went from 10 ms to 26 ms). In a
process of its own the import has a core to itself and the web server keeps the other.

Spreadsheets too: an .xlsx's rows are streamed and converted in Python, and a fault of the
reader (a young fork of python-calamine, see pyproject.toml) ends the helper, never the server.
The sheets read whole (.xls, .xlsb, .ods, an .xlsx stored out of order) are read here under the
same memory cap as their preview (:mod:`.helper_preview`): a file that asks for more ends this
import with a message, and the server serves on.

The helper is started with ``spawn`` (never ``fork``: this process runs the web server's
threads). Progress comes back through shared counters, a cancel goes there through an event;
the helper also stops by itself when this process is gone. If no process can be started, the
import runs here as before.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import traceback
from collections.abc import Callable
from pathlib import Path

from ...importers import Limits, Meter, TableSample, UnreadableFile
from . import pipeline
from .helper_process import (
    Helper,
    cap_memory,
    lower_priority,
    memory_cap,
    shared_counter,
    shared_flag,
    watch_parent,
)
from .pipeline import Outcome

IN_PROCESS_FORMATS: frozenset[str] = frozenset()  # every format is imported in a helper
CAPPED_FORMATS = frozenset({"xlsx", "xls", "ods"})  # may be read whole: under the memory cap
log = logging.getLogger(__name__)


def load_file(
    path: Path,
    dest: Path,
    sample: TableSample | None = None,
    types: list[str] | None = None,
    *,
    bad_values: str = "keep",
    meter: Meter | None = None,
    should_stop: Callable[[], bool] | None = None,
    base: Path | None = None,
    names: list[str] | None = None,
    limits: Limits | None = None,
    readings: list | None = None,
    markers: tuple[str, ...] | None = None,
) -> Outcome:
    """:func:`.pipeline.load_file`, run in a helper process (same arguments,
    same result, same exceptions)."""
    kwargs = {
        "bad_values": bad_values,
        "base": base,
        "names": names,
        "limits": limits,
        "readings": readings,
        "markers": markers,
    }
    if sample is None or sample.options.format in IN_PROCESS_FORMATS:
        return pipeline.load_file(
            path, dest, sample, types, meter=meter, should_stop=should_stop, **kwargs
        )
    progress, rows, cancel = shared_counter(), shared_counter(), shared_flag()
    try:
        helper = Helper(
            _load,
            (path, dest, sample, types, kwargs, progress, rows, cancel),
            name="sheaf-import",
        )
    except Exception as exc:  # no way to start a process here: import in this one
        log.warning("The import's helper process could not start (%s); importing here.", exc)
        return pipeline.load_file(
            path, dest, sample, types, meter=meter, should_stop=should_stop, **kwargs
        )
    if meter is not None:
        meter.bytes = lambda: progress.value
        meter.rows = lambda: rows.value

    def between() -> None:
        if should_stop is not None and not cancel.is_set() and should_stop():
            cancel.set()  # the helper stops, cleans up, and answers Stopped

    try:
        answer = helper.wait(between)
    finally:
        helper.end(grace=30)
    if isinstance(answer, Outcome):
        return answer
    for leftover in (dest.name + ".partial", dest.name + ".partial.half"):
        dest.with_name(leftover).unlink(missing_ok=True)
    if isinstance(answer, BaseException):
        raise answer
    if sample.options.format in CAPPED_FORMATS:
        raise UnreadableFile(
            "Reading this file took more memory than Sheaf allows, or the reader failed; nothing "
            "was changed. Save a copy as .xlsx or CSV and try that."
        )
    raise RuntimeError(f"The import's helper process ended without an answer ({answer!r}).")


def _load(send, path, dest, sample, types, kwargs, progress, rows, cancel) -> None:
    """In the helper process: the import itself; its outcome or its exception goes back. A
    helper whose parent is gone (Sheaf killed) stops, removes its partial file and ends."""
    lower_priority()
    parent_gone = watch_parent()
    if parent_gone():  # the parent died before the line above
        return
    # A daemon process (ended with its parent) may not start processes of its own, but a large
    # file's second half wants one; that helper dies with this process in turn.
    multiprocessing.current_process().daemon = False
    if sample.options.format in CAPPED_FORMATS:
        cap_memory(memory_cap(kwargs["limits"] or Limits()))
    meter = Meter()

    def should_stop() -> bool:  # asked every few milliseconds by SQLite's progress handler
        progress.value, rows.value = meter.bytes(), meter.rows()
        return cancel.is_set() or parent_gone()

    try:
        outcome = pipeline.load_file(
            path, dest, sample, types, meter=meter, should_stop=should_stop, **kwargs
        )
        log.info(
            "Helper process %s read %s rows of %s.",
            os.getpid(),
            f"{outcome.result.rows:,}",
            path.name,
        )
        send.send(outcome)
    except MemoryError:
        send.send(UnreadableFile("Reading this file took more memory than Sheaf allows."))
    except Exception as exc:
        if parent_gone():  # nobody to answer: the partial file is gone (bulk_load), end here
            return
        try:
            send.send(exc)
        except Exception:  # an exception that cannot be pickled: its text will do
            send.send(RuntimeError("".join(traceback.format_exception(exc))))
    finally:
        send.close()
