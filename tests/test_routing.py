"""URL building with rules that compile their builders on first use (server.routing), and the
tripwire for the unpublished Werkzeug method they override."""

from __future__ import annotations

import inspect
import logging
from importlib.metadata import version

import pytest
from flask import Flask, url_for
from werkzeug.routing import BuildError, Rule

from server import routing
from server.routing import LazyBuilderRule, fits, rule_class
from tests.helpers import make_app


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


def test_werkzeug_still_has_the_method_as_routing_overrides_it():
    """Trips when Werkzeug changes Rule._compile_builder: check server/routing.py against the
    new Werkzeug, then move the cap on Werkzeug in pyproject.toml."""
    parameters = inspect.signature(Rule._compile_builder).parameters
    assert [(p.name, p.kind, p.default) for p in parameters.values()] == [
        ("self", inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.empty),
        ("append_unknown", inspect.Parameter.POSITIONAL_OR_KEYWORD, True),
    ]
    assert "_compile_builder" in Rule.compile.__code__.co_names  # how Rule builds its URLs
    assert fits(Rule) and rule_class() is LazyBuilderRule
    assert (3, 1, 6) <= tuple(int(n) for n in version("werkzeug").split(".")[:3]) < (3, 2)


def _urls(app: Flask) -> list[str]:
    """Every rule's URL, plain, with unknown arguments and external, or the error it gives."""
    urls = []
    with app.test_request_context():
        for rule in app.url_map.iter_rules():
            values = {
                name: 7 if f"<int:{name}>" in rule.rule else "a b/ü?"
                for name in rule.arguments - set(rule.defaults or {})
            }
            for extra in ({}, {"q": "a b", "sort": "-c2"}, {"_external": True, "_anchor": "x"}):
                try:
                    urls.append(url_for(rule.endpoint, **values, **extra))
                except BuildError as exc:
                    urls.append(f"BuildError {exc}")
    return urls


def test_every_url_of_the_app_is_built_as_with_werkzeugs_own_rule(tmp_path, monkeypatch):
    desktop = {"LAUNCH_SECRET": "s3cret", "LAUNCH_HOST": ""}  # the desktop-only routes too
    lazy = make_app(tmp_path / "lazy", **desktop)
    monkeypatch.setattr(routing, "rule_class", lambda: Rule)
    plain = make_app(tmp_path / "plain", **desktop)
    assert all(type(rule) is Rule for rule in plain.url_map.iter_rules())
    assert len(list(lazy.url_map.iter_rules())) >= 50
    urls = _urls(lazy)
    assert urls == _urls(plain)
    assert "/people/7" in urls and "http://localhost/sign-in#x" in urls


@pytest.mark.parametrize(
    "changed",
    [
        lambda self: None,
        lambda self, append_unknown=False: None,
        lambda self, append_unknown=True, *, style="": None,
        lambda self, *args: None,
    ],
)
def test_a_changed_werkzeug_gets_the_plain_rule(monkeypatch, caplog, changed):
    monkeypatch.setattr(Rule, "_compile_builder", changed)
    with caplog.at_level(logging.DEBUG, logger="server.routing"):
        assert rule_class() is Rule
    assert "compiled eagerly" in caplog.text


def test_a_rule_without_the_method_does_not_fit():
    class Other(Rule):
        def compile(self) -> None:  # builds its URLs some other way
            pass

    assert not fits(Other)
