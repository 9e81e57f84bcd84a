"""URL building with rules that compile their builders on first use (server.routing)."""

from __future__ import annotations

from flask import Flask, url_for

from server.routing import LazyBuilderRule


def _app() -> Flask:
    app = Flask(__name__)
    app.url_rule_class = LazyBuilderRule
    app.add_url_rule("/plain", "plain", lambda: "")
    app.add_url_rule("/items/<int:item>", "item", lambda item: "")
    pages = lambda page: ""  # noqa: E731
    app.add_url_rule("/pages/", "pages", pages, defaults={"page": 1})
    app.add_url_rule("/pages/<int:page>", "pages", pages)
    return app


def test_urls_are_built_as_werkzeug_builds_them():
    app = _app()
    with app.test_request_context():
        assert url_for("plain") == "/plain"
        assert url_for("plain", q="a b", sort="c2") == "/plain?q=a+b&sort=c2"
        assert url_for("item", item=7) == "/items/7"
        assert url_for("item", item=7, _external=True) == "http://localhost/items/7"
        assert url_for("pages") == "/pages/"
        assert url_for("pages", page=1) == "/pages/"
        assert url_for("pages", page=3) == "/pages/3"
        assert url_for("item", item=7) == "/items/7"  # the compiled builder, again


def test_the_app_uses_it(app):
    assert app.url_rule_class is LazyBuilderRule
    assert all(
        isinstance(rule, LazyBuilderRule)
        for rule in app.url_map.iter_rules()
        if rule.endpoint != "static"
    )
    with app.test_request_context():
        assert url_for("auth.setup") == "/setup"
