"""Help inside the app: the docs rendered as pages for everyone signed in, safely (no raw HTML),
offline, with the links between docs leading to their help pages and anchors."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from server.help_pages import DOCS_DIR, Library, slug

ROOT = Path(__file__).resolve().parent.parent


def test_the_index_lists_every_doc_by_title(viewer_client):
    page = viewer_client.get("/help").get_data(as_text=True)
    titles = re.findall(r'<li><a href="/help/([a-z_-]+)">([^<]+)</a></li>', page)
    assert titles[:3] == [
        ("datasets", "Working with datasets"),
        ("importing", "Importing files"),
        ("permissions", "Permissions and roles"),
    ]
    assert {name for name, _ in titles} == {p.stem for p in DOCS_DIR.glob("*.md")}


def test_every_doc_renders_and_every_link_between_docs_lands(viewer_client):
    pages = {}
    for path in DOCS_DIR.glob("*.md"):
        response = viewer_client.get(f"/help/{path.stem}")
        assert response.status_code == 200, path.name
        pages[path.stem] = response.get_data(as_text=True)
    checked = 0
    for name, page in pages.items():
        article = page.split('<article class="help-doc">', 1)[1].split("</article>", 1)[0]
        assert ".md" not in " ".join(re.findall(r'href="([^"]*)"', article)), name
        for target, anchor in re.findall(r'href="/help/([a-z_-]+)(?:#([\w-]+))?"', article):
            assert target in pages, f"{name} links to {target}"
            if anchor:
                assert f'id="{anchor}"' in pages[target], f"{name} → {target}#{anchor}"
            checked += 1
        for anchor in re.findall(r'href="#([\w-]+)"', article):
            assert f'id="{anchor}"' in page, f"{name} → #{anchor}"
            checked += 1
    assert checked >= 10


def test_the_settings_page_links_to_help(admin_client):
    page = admin_client.get("/settings").get_data(as_text=True)
    assert 'href="/help/settings">Help: Settings</a>' in page
    assert "docs/settings.md" not in page


def test_a_help_link_in_every_signed_in_page(viewer_client, anon):
    assert 'href="/help">Help</a>' in viewer_client.get("/").get_data(as_text=True)
    assert 'href="/help"' not in anon.get("/sign-in").get_data(as_text=True)


@pytest.mark.parametrize("name", ["nothing", "README", "..%2Fpyproject", "settings.md", "a" * 65])
def test_anything_but_a_doc_is_404(viewer_client, name):
    assert viewer_client.get(f"/help/{name}").status_code == 404


def test_raw_html_is_shown_as_text_and_source_links_are_plain(app, tmp_path):
    (tmp_path / "one.md").write_text(
        "# One\n\n<script>alert(1)</script>\n\n<b onclick=x>bold</b>\n\n"
        "[two](two.md#b-section), [code](../server/x.py), [web](https://example.org), "
        "[js](javascript:alert(1))\n\n## A section\n\n## A section\n",
        encoding="utf-8",
    )
    (tmp_path / "two.md").write_text("# Two\n\n## B section\n", encoding="utf-8")
    library = Library(tmp_path)
    with app.test_request_context():
        html = str(library.doc("one").html)
    assert "<script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<b onclick" not in html
    assert '<a href="/help/two#b-section">two</a>' in html
    assert "code" in html and "../server/x.py" not in html
    assert '<a href="https://example.org">web</a>' in html
    assert 'href="javascript:' not in html
    assert '<h2 id="a-section">' in html and '<h2 id="a-section-1">' in html
    assert library.doc("one").title == "One"
    assert library.doc("three") is None


def test_slugs_are_githubs():
    taken: dict[str, int] = {}
    assert slug("Files on Windows, and how CI checks them on Linux", taken) == (
        "files-on-windows-and-how-ci-checks-them-on-linux"
    )
    assert slug("Sign-in", taken) == "sign-in"
    assert slug("Sign-in", taken) == "sign-in-1"


def test_the_docs_ship_in_the_package():
    spec = (ROOT / "build.spec").read_text(encoding="utf-8")
    assert '(str(ROOT / "docs"), "docs")' in spec
