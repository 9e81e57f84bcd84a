"""URL rules that compile their URL builders when first used.

Werkzeug compiles two small Python functions per URL rule as the rule is added (for
``url_for``): for Sheaf's 50-odd rules that was 12 ms of every start, while a session builds
URLs for only some of them. This rule compiles each function the first time it builds a URL;
the functions themselves are Werkzeug's. ``_compile_builder`` is Werkzeug's own, unpublished
method, so :func:`rule_class` falls back to the plain ``Rule`` (a slower start, never a wrong
URL) when Werkzeug no longer has it as expected; pyproject.toml caps Werkzeug below 3.2 and
tests/test_routing.py trips when it changes.
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Callable
from typing import Any

from werkzeug.routing import Rule

log = logging.getLogger(__name__)

_POSITIONAL = inspect.Parameter.POSITIONAL_OR_KEYWORD
#: ``Rule._compile_builder``'s parameters (name, kind, default) as this module overrides it.
EXPECTED_PARAMETERS = [
    ("self", _POSITIONAL, inspect.Parameter.empty),
    ("append_unknown", _POSITIONAL, True),
]


class LazyBuilderRule(Rule):
    def _compile_builder(self, append_unknown: bool = True) -> Callable[..., tuple[str, str]]:
        compile_builder = super()._compile_builder
        compiled: Callable[..., tuple[str, str]] | None = None

        def build(rule: Rule, **values: Any) -> tuple[str, str]:
            nonlocal compiled
            if compiled is None:  # two threads may both compile it: the same function
                compiled = compile_builder(append_unknown).__get__(rule, None)
            return compiled(**values)

        return build


def fits(rule: type[Rule]) -> bool:
    """Whether ``rule`` still builds URLs through ``_compile_builder`` as Werkzeug 3.1 does."""
    method = getattr(rule, "_compile_builder", None)
    compile_code = getattr(rule.compile, "__code__", None)
    if method is None or compile_code is None or "_compile_builder" not in compile_code.co_names:
        return False
    try:
        parameters = inspect.signature(method).parameters.values()
    except (TypeError, ValueError):
        return False
    return [(p.name, p.kind, p.default) for p in parameters] == EXPECTED_PARAMETERS


def rule_class() -> type[Rule]:
    """The app's URL rule class: the lazy one while Werkzeug's ``Rule`` fits it."""
    if fits(Rule):
        return LazyBuilderRule
    log.debug("Werkzeug's Rule._compile_builder has changed: URL builders compiled eagerly")
    return Rule
