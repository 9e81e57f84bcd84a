"""Closing the window: ask before abandoning a running import, then stop cleanly."""

from __future__ import annotations

from typing import Any


def confirm_close(window: Any, runner: Any) -> bool:
    """False keeps the window open. While imports run, the person decides; closing cancels
    them (an import is all or nothing, so nothing half-done is kept)."""
    running = runner.busy()
    if not running:
        return True
    count = len(running)
    return bool(
        window.create_confirmation_dialog(
            "An import is still running" if count == 1 else f"{count} imports are still running",
            "Close Sheaf anyway? The import will be cancelled and nothing of it kept. "
            "Choose Cancel to let it finish.",
        )
    )


def shut_down(app: Any, server: Any) -> None:
    """Stop imports, fold the write-ahead log into the database file, close the server."""
    from server.db import database

    app.extensions["sheaf.imports"].shutdown(cancel=True)
    with database.connection_context():
        database.execute_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    server.close()
