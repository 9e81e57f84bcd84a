"""Sheaf's web app. ``create_app`` reads settings, opens the database, applies migrations,
and registers the blueprints and error handlers."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from flask import Flask

from .version import __version__

__all__ = ["__version__", "create_app"]

ASSETS_DIR = Path(__file__).resolve().parent.parent / "assets"


def create_app(config: dict[str, Any] | None = None) -> Flask:
    """Build the app. ``config`` overrides every other source of settings (see server.config).

    Flask is imported here, not at the top: the import worker process and the command line
    import this package without needing a web framework."""
    from flask import Flask, Response
    from flask_login import current_user
    from werkzeug.wsgi import ClosingIterator

    from . import (
        admin,
        db,
        errors,
        file_removal,
        lockdown,
        native_dialogs,
        security,
        template_cache,
        template_filters,
    )
    from .admin.maintenance import guard_damaged, quick_check
    from .audit_trail import record
    from .auth import session
    from .auth.routes import bp as auth_bp
    from .backup import finish_restore
    from .config import build_settings, ensure_data_dir, resolve_data_dir
    from .datasets import web as datasets_web
    from .datasets.loading.jobs import clean_leftovers
    from .datasets.loading.runner import ImportRunner, limits_from
    from .datasets.versions import recover as recover_versions
    from .help_pages import bp as help_bp
    from .home import bp as home_bp
    from .migrations import migrate
    from .permissions import PERMISSIONS, has_permission, permission_label
    from .picked_files import PickedFiles
    from .private_files import network_share
    from .routing import rule_class
    from .users.routes import bp as users_bp

    app = Flask(
        __name__,
        static_folder=str(ASSETS_DIR),
        static_url_path="/assets",
        template_folder="templates",
    )
    app.url_rule_class = rule_class()
    # A restore staged by the backup page (or a crash half-way through one) is finished first,
    # before the settings file and the secret key are read or the database is opened (and
    # after an app made before in this process has let go of its file).
    db.release()
    restored = finish_restore(ensure_data_dir(resolve_data_dir(config)))
    app.config.update(build_settings(config))
    app.config["DEBUG"] = False  # never: the debugger runs code sent to it
    app.config["DATA_FOLDER_SHARE"] = network_share(app.config["DATA_DIR"])
    if app.config["DATA_FOLDER_SHARE"]:
        logging.getLogger("sheaf").warning(
            "The data folder %s is on a %s: SQLite cannot keep it safe there.",
            app.config["DATA_DIR"],
            app.config["DATA_FOLDER_SHARE"],
        )

    problem = quick_check(app.config["DATABASE_PATH"])
    database = db.open_database(app.config["DATABASE_PATH"])
    if problem == "ok":
        with database.connection_context():
            migrate(database)
            clean_leftovers(app.config["DATA_DIR"])
            recover_versions(app.config["DATA_DIR"])
            if restored is not None:
                record("backup.restored", details={"previous_data": restored.name})

    @app.after_request
    def _remove_freed_files(response: Response) -> Response:
        # A file a reader held when it was deleted (Windows) may be free once this response
        # has been sent (a download streams until then).
        if response.direct_passthrough:  # send_file: Werkzeug then skips call_on_close
            response.response = ClosingIterator(response.response, [file_removal.retry])
        else:
            response.call_on_close(file_removal.retry)
        return response

    lockdown.init_app(app)  # first: its check runs before every other before-request hook
    db.init_app(app)
    template_cache.init_app(app)
    native_dialogs.init_app(app)
    security.init_app(app)
    if problem != "ok":
        guard_damaged(app, problem)
    session.init_app(app)
    errors.init_app(app)
    app.extensions["sheaf.picked"] = PickedFiles()
    app.extensions["sheaf.imports"] = ImportRunner(app.config["DATA_DIR"], limits_from(app.config))
    for blueprint in (auth_bp, home_bp, help_bp, users_bp):
        app.register_blueprint(blueprint)
    admin.register(app)
    datasets_web.register(app)

    app.jinja_env.filters.update(template_filters.FILTERS)

    @app.context_processor
    def _template_helpers() -> dict[str, Any]:
        return {
            "can": lambda name: has_permission(current_user, name),
            "PERMISSIONS": PERMISSIONS,
            "permission_label": permission_label,
            "version": __version__,
            "idle_seconds": app.config["IDLE_LOCK_MINUTES"] * 60,
        }

    return app
