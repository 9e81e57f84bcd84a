"""Help inside the app: Sheaf's own documentation (the ``docs/*.md`` files, which ship with
it) as pages, for everyone signed in, offline.

The Markdown is rendered by markdown-it-py with raw HTML turned off, so a page can hold no
script or markup of its own: what it shows is text, links, lists, tables and code. Links from
one doc to another (``settings.md#sign-in``) become links to its help page; links to files
outside the docs (the source tree) become plain text, since they would lead nowhere in the app.
Headings carry the ids GitHub gives them, so the docs' anchors work in both places.
"""

from __future__ import annotations

import re
import threading
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from flask import Blueprint, abort, render_template, url_for
from markdown_it import MarkdownIt
from markdown_it.token import Token
from markupsafe import Markup

DOCS_DIR = Path(__file__).resolve().parent.parent / "docs"
# The order of the help's contents: people's topics first, then those for whoever runs Sheaf.
ORDER = (
    "datasets",
    "importing",
    "permissions",
    "backups",
    "settings",
    "security",
    "serving",
    "api",
    "performance",
    "architecture",
)
_NAME = re.compile(r"^[a-z0-9_-]{1,64}$")
_DOC_LINK = re.compile(r"^(?:\./)?([a-z0-9_-]{1,64})\.md(#[\w-]*)?$")

bp = Blueprint("help", __name__)


@dataclass(frozen=True)
class Doc:
    name: str
    title: str
    html: Markup


def slug(text: str, taken: dict[str, int]) -> str:
    """GitHub's id for a heading: lower case, punctuation dropped, spaces as hyphens; a
    repeated heading gets -1, -2…"""
    text = unicodedata.normalize("NFKC", text).strip().lower()
    base = re.sub(r"[^\w\- ]", "", text).replace(" ", "-")
    count = taken.get(base, 0)
    taken[base] = count + 1
    return base if count == 0 else f"{base}-{count}"


def _rewrite(tokens: list[Token], names: frozenset[str]) -> None:
    """Ids on headings; links between docs to their help pages; links into the source tree
    made plain text."""
    taken: dict[str, int] = {}
    for index, token in enumerate(tokens):
        if token.type == "heading_open":
            inline = tokens[index + 1]
            token.attrSet("id", slug(inline.content, taken))
        if token.type != "inline" or not token.children:
            continue
        children: list[Token] = []
        dropped = 0  # link_open tokens removed whose link_close must go too
        for child in token.children:
            if child.type == "link_open":
                href = str(child.attrGet("href") or "")
                match = _DOC_LINK.match(href)
                if match and match.group(1) in names:
                    child.attrSet(
                        "href",
                        url_for("help.help_page", doc=match.group(1)) + (match.group(2) or ""),
                    )
                elif not href.startswith(("#", "http://", "https://", "mailto:")):
                    dropped += 1
                    continue
            elif child.type == "link_close" and dropped:
                dropped -= 1
                continue
            children.append(child)
        token.children = children


class Library:
    """The docs, rendered once each (again when a file changes on disk)."""

    def __init__(self, folder: Path = DOCS_DIR) -> None:
        self.folder = folder
        self.markdown = MarkdownIt("commonmark", {"html": False}).enable(["table", "strikethrough"])
        self._cache: dict[str, tuple[float, Doc]] = {}
        self._lock = threading.Lock()

    def names(self) -> list[str]:
        found = {p.stem for p in self.folder.glob("*.md") if _NAME.match(p.stem)}
        return [n for n in ORDER if n in found] + sorted(found - set(ORDER))

    def doc(self, name: str) -> Doc | None:
        if not _NAME.match(name):
            return None
        path = self.folder / f"{name}.md"
        try:
            changed = path.stat().st_mtime
        except OSError:
            return None
        with self._lock:
            kept = self._cache.get(name)
        if kept and kept[0] == changed:
            return kept[1]
        text = path.read_text(encoding="utf-8")
        tokens = self.markdown.parse(text)
        _rewrite(tokens, frozenset(self.names()))
        title = next(
            (
                t.content
                for i, t in enumerate(tokens)
                if t.type == "inline" and i and tokens[i - 1].tag == "h1"
            ),
            name,
        )
        # Raw HTML is off: markdown-it escapes every character of the text itself.
        html = Markup(self.markdown.renderer.render(tokens, self.markdown.options, {}))  # noqa: S704
        doc = Doc(name, title, html)
        with self._lock:
            self._cache[name] = (changed, doc)
        return doc


library = Library()


@bp.route("/help")
def help_index() -> str:
    docs = [d for d in (library.doc(n) for n in library.names()) if d is not None]
    return render_template("help/index.html", docs=docs)


@bp.route("/help/<doc>")
def help_page(doc: str) -> str:
    found = library.doc(doc)
    if found is None:
        abort(404)
    return render_template("help/page.html", doc=found)
