"""The one start-up routine that the window and ``sheaf serve`` share: find the data folder,
take its lock, start the logs, build the app, and start the automatic backup and the pruning of
old versions — in that order,
so a second Sheaf on the same folder is refused before it writes a log line or opens the
database."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from server.config import ensure_data_dir, resolve_data_dir
from server.folder_lock import FolderInUse, lock_data_folder

if TYPE_CHECKING:
    from flask import Flask


class FolderTaken(FolderInUse):
    """Another Sheaf holds this data folder (``folder`` says which, to bring it forward)."""

    def __init__(self, folder: Path, message: str) -> None:
        super().__init__(message)
        self.folder = folder


@dataclass
class Started:
    folder: Path
    lock: IO[str]  # keep it referenced: the folder stays locked while it is open
    app: Flask


def start(config: dict[str, Any], settings: dict[str, Any] | None = None) -> Started:
    """Open the data folder named by ``config`` (or the default one) and build the app with
    ``settings`` on top. Raises :class:`FolderTaken` when another Sheaf runs on the folder."""
    from server import create_app
    from server.admin.maintenance import start_automatic_backup
    from server.datasets import indexing
    from server.datasets.versions import start_pruning
    from server.logs import configure_logging

    folder = ensure_data_dir(resolve_data_dir(config))
    try:
        lock = lock_data_folder(folder)
    except FolderInUse as exc:
        raise FolderTaken(folder, str(exc)) from None
    configure_logging(folder)
    app = create_app({**config, **(settings or {})})
    start_automatic_backup(app)
    start_pruning(app)
    indexing.start(app)
    return Started(folder, lock, app)
