"""Keeping the data safe around the app's life: the integrity check at start-up and on demand,
the automatic backup, and what a damaged database leaves a person able to do."""

from __future__ import annotations

import logging
import sqlite3
import threading
from pathlib import Path

from flask import Flask, Response, current_app, render_template, request

from .. import backup
from ..audit_trail import record
from ..db import database
from ..models import User

log = logging.getLogger(__name__)


def quick_check(path: Path) -> str:
    """SQLite's quick check of one database file: "ok", or what is wrong (a file not made
    yet is fine: the first start makes it)."""
    if not Path(path).exists():
        return "ok"
    return _check(path, "quick_check")


def _check(path: Path, pragma: str) -> str:
    try:
        return backup.integrity(path, pragma)
    except sqlite3.Error as exc:
        return str(exc)


def full_check(data_dir: Path) -> dict[str, str]:
    """SQLite's full integrity check of the database and of every dataset file."""
    data_dir = Path(data_dir)
    results = {"sheaf.db": _check(data_dir / "sheaf.db", "integrity_check")}
    for path in sorted((data_dir / "datasets").glob("*.sqlite")):
        results[f"datasets/{path.name}"] = _check(path, "integrity_check")
    return results


AUTOMATIC_BACKUP_DELAY = 10.0  # seconds after start-up: never slows the window's opening


def start_automatic_backup(
    app: Flask, delay: float = AUTOMATIC_BACKUP_DELAY
) -> threading.Timer | None:
    """Soon after start-up, in the background: a backup when the newest is over a day old
    (and there is something to back up: a fresh folder has no accounts yet)."""
    data_dir = Path(app.config["DATA_DIR"])
    if not app.config["BACKUP_AUTOMATIC"] or not backup.automatic_backup_due(data_dir):
        return None

    def run() -> None:
        try:
            with app.app_context(), database.connection_context():
                if not User.select().exists():
                    return
            info = backup.make_backup(data_dir, backup.new_backup_path(data_dir, automatic=True))
            gone = backup.prune_automatic(data_dir, app.config["BACKUP_KEEP"])
            with app.app_context(), database.connection_context():
                record(
                    "backup.made",
                    object_type="backup",
                    object_id=info.path.name,
                    details={"automatic": True, "datasets": info.datasets, "pruned": len(gone)},
                )
        except Exception:  # never takes the app down; the log says why
            log.exception("The automatic backup failed")

    timer = threading.Timer(delay, run)
    timer.name, timer.daemon = "sheaf-auto-backup", True
    timer.start()
    return timer


def guard_damaged(app: Flask, problem: str) -> None:
    """The database failed its check at start-up: every page explains, and offers the
    newest backup instead of carrying on with damaged data."""
    app.extensions["sheaf.damaged"] = problem

    @app.route("/damaged/restore-latest", methods=["POST"], endpoint="damaged_restore_latest")
    def _restore_latest() -> Response:  # reached only through the guard below
        raise AssertionError("unreachable")

    @app.before_request
    def _damaged() -> tuple[str, int] | None:
        if request.endpoint == "static":
            return None
        data_dir = Path(current_app.config["DATA_DIR"])
        backups = backup.list_backups(data_dir)
        # Only the desktop window (the launch secret proves it) may restore without signing
        # in: the accounts themselves may be what is damaged.
        restore_here = bool(current_app.config.get("LAUNCH_SECRET"))
        if request.endpoint == "damaged_restore_latest" and restore_here and backups:
            try:
                backup.stage_restore(backups[0], data_dir)
            except backup.BackupError as exc:
                problem_now = f"{problem} (and the newest backup cannot be used: {exc})"
                return _page(problem_now, None, False, data_dir, restore_here)
        return _page(
            problem,
            backups[0] if backups else None,
            backup.restore_pending(data_dir),
            data_dir,
            restore_here,
        )


def _page(problem, latest, pending, data_dir, restore_here) -> tuple[str, int]:
    return render_template(
        "errors/damaged.html",
        problem=problem,
        latest=latest,
        pending=pending,
        data_dir=data_dir,
        restore_here=restore_here,
    ), 503
