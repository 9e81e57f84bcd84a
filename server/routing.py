"""URL rules that compile their URL builders when first used.

Werkzeug compiles two small Python functions per URL rule as the rule is added (for
``url_for``): for Sheaf's 50-odd rules that was 12 ms of every start, while a session builds
URLs for only some of them. This rule compiles each function the first time it builds a URL;
the functions themselves are Werkzeug's. (``_compile_builder`` is Werkzeug's own, unpublished
method; tests/test_routing.py checks the URLs built through it.)
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from werkzeug.routing import Rule


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
