"""The datasets' web layer: page routes, the import flow, the JSON API and their forms, and
:mod:`.access`, the one place that loads a dataset for a request and checks the person's access.
Routes stay thin: they read a form, call one domain function, and render."""

from __future__ import annotations

from flask import Flask


def register(app: Flask) -> None:
    """Attach the dataset pages, the import flow and the JSON API to ``app``."""
    from . import (
        access,
        analysis_pages,
        api,
        history_pages,
        import_pages,
        pages,
        profile_pages,  # noqa: F401 - its routes hang on pages.bp
        recipe_pages,
        row_pages,
        rule_pages,
        table_html,
        view_pages,
    )

    # What pages show as a dataset's size: only the rows the person sees (row rules).
    app.jinja_env.globals["rows_seen"] = access.rows_seen
    app.jinja_env.globals["sees_all_rows"] = lambda dataset: access.limit_of(dataset) is None

    for blueprint in (
        pages.bp,
        history_pages.bp,
        row_pages.bp,
        import_pages.bp,
        recipe_pages.bp,
        view_pages.bp,
        api.bp,
        rule_pages.bp,
    ):
        app.register_blueprint(blueprint)
    table_html.register(app)
    # Facets and summaries of a view (its JSON routes are on the API's blueprint).
    app.register_blueprint(analysis_pages.bp)
