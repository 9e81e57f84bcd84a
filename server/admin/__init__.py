"""Administration: the audit log, backups and restores, and the settings page."""

from __future__ import annotations

from flask import Flask


def register(app: Flask) -> None:
    """Attach the audit log, the backup pages and the settings page to ``app``."""
    from . import backup_routes, routes, settings_page

    for blueprint in (routes.bp, backup_routes.bp, settings_page.bp):
        app.register_blueprint(blueprint)
