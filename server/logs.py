"""Logs in the data folder, rotated, so an unexpected error can be looked into afterwards
(the person sees a friendly page; the details are here)."""

from __future__ import annotations

import logging
from logging.handlers import RotatingFileHandler
from pathlib import Path

LOG_DIR = "logs"
LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"  # helpers write the same lines


def configure_logging(data_dir: Path) -> Path:
    """Send warnings and errors (and each start) to ``logs/sheaf.log``, 5 files of 1 MiB."""
    folder = Path(data_dir) / LOG_DIR
    folder.mkdir(mode=0o700, exist_ok=True)
    path = folder / "sheaf.log"
    handler = RotatingFileHandler(path, maxBytes=1 << 20, backupCount=4, encoding="utf-8")
    handler.setFormatter(logging.Formatter(LOG_FORMAT))
    root = logging.getLogger()
    if not any(getattr(h, "baseFilename", None) == str(path) for h in root.handlers):
        root.addHandler(handler)
    root.setLevel(logging.INFO)
    logging.getLogger("sheaf").info("Sheaf started on %s", data_dir)
    return path
