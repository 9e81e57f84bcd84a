"""A file's preview is read in a helper process under a memory cap.

A reader that reads a sheet whole (.ods, .xls, .xlsb, an .xlsx stored out of order) holds the
whole sheet in memory, and a crafted file can ask for gigabytes (an 825-byte .ods took the
server from 110 MB to 1.9 GB; a larger one aborted the server process, cutting everyone off).
The cell budgets (:mod:`server.importers.sheet_budget`) refuse such files before they are read;
this process boundary is the guard for what they cannot count (the binary .xls and .xlsb) and
for a reader's own faults: the helper's address space is capped (:func:`.cap_memory`), its time
is limited, and whatever ends it (a MemoryError, a crash, the kernel) ends this preview with a
message while the server serves on.

Delimited text and JSON are previewed in the server's process: their readers stream, read a
bounded sample (1 MiB, 2,000 rows) and never hold a sheet, and a helper's start (a fresh
Python: measured 125 ms, against 1 ms for a small CSV's preview here) would make every such
preview a hundred times slower for no protection gained (see docs/security.md). A small .xlsx's
preview went from 3 ms to 125 ms, the price of the cap.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path

from ...importers import Limits, ReadOptions, TableSample, UnreadableFile
from ...importers import inspect_file as inspect_here
from ...importers.sniff import detect_format
from .helper_process import Helper, cap_memory, memory_cap, watch_parent

IN_PROCESS_FORMATS = frozenset({"delimited", "json"})
PREVIEW_SECONDS = 120
log = logging.getLogger(__name__)

ENDED = (
    "Reading this file for the preview took more memory than Sheaf allows, or the reader "
    "failed; nothing else was affected. If it is a spreadsheet, save a copy as .xlsx or CSV "
    "and try that."
)


class _TooSlow(Exception):
    pass


def inspect_file(path: Path, options: ReadOptions, limits: Limits) -> TableSample:
    """:func:`server.importers.inspect_file`, run in a capped helper process for the
    spreadsheet formats (same result, same UnreadableFile); every other end of the helper is
    an UnreadableFile too."""
    fmt = options.format or detect_format(path)
    options = options.with_(format=fmt)
    if fmt in IN_PROCESS_FORMATS:
        return inspect_here(path, options, limits)
    try:
        helper = Helper(_inspect, (path, options, limits), name="sheaf-preview")
    except Exception as exc:  # no process can start here: the cell budgets still hold
        log.warning("The preview's helper process could not start (%s); reading here.", exc)
        return inspect_here(path, options, limits)
    deadline = time.monotonic() + PREVIEW_SECONDS

    def between() -> None:
        if time.monotonic() > deadline:
            raise _TooSlow

    try:
        answer = helper.wait(between)
    except _TooSlow:
        raise UnreadableFile(
            f"Reading this file for the preview took more than {PREVIEW_SECONDS} seconds; "
            "Sheaf stopped it."
        ) from None
    finally:
        helper.end()
    if isinstance(answer, UnreadableFile):
        raise answer
    if isinstance(answer, TableSample):
        return answer
    log.warning("The preview's helper process ended without a sample (%r).", answer)
    raise UnreadableFile(ENDED)


def _inspect(send, path: Path, options: ReadOptions, limits: Limits) -> None:
    """In the helper process: the sample, or the reason there is none, goes back."""
    try:
        watch_parent()
        cap_memory(memory_cap(limits))
        try:
            answer: object = inspect_here(path, options, limits)
        except UnreadableFile as exc:
            answer = exc
        except MemoryError:
            answer = UnreadableFile(ENDED)
        except Exception as exc:  # a reader's fault: said, never the server's end
            answer = UnreadableFile(f"This file cannot be read ({type(exc).__name__}: {exc}).")
        send.send(answer)
    finally:
        send.close()
