"""The table page people work in: their own column layout (kept per person and dataset),
filter chips, operators that fit each type, and pages by number."""

from __future__ import annotations

import html
import re
import sqlite3

import pytest

from server.datasets import layouts, sharing
from server.datasets.layouts import Layout, LayoutError
from server.datasets.reading import browse
from server.datasets.storage import make_columns
from server.models import ColumnLayout

CSV = "id,name,city,ok,day\n" + "".join(
    f"{i},Name {i},{['Oslo', 'Lisbon', 'Quito'][i % 3]},{'yes' if i % 2 else 'no'},"
    f"2024-01-{i % 28 + 1:02d}\n"
    for i in range(1, 121)
)  # 120 rows: three pages of 50


@pytest.fixture
def shared(app, people):
    """Eddie's dataset, shared read-only with Vera."""
    from tests.helpers import make_dataset

    dataset = make_dataset(app, people["editor"], CSV, "Visits")
    sharing.share(dataset, by=people["editor"], user=people["viewer"], can_edit=False)
    return dataset


def _headers(page: str) -> list[str]:
    return [
        html.unescape(m)
        for m in re.findall(r'<th scope="col" data-column="[^"]+"[^>]*>\s*<a[^>]*>([^<]+)<', page)
    ]


def _first_row(page: str) -> list[str]:
    row = re.search(r"<tbody>\s*<tr>(.*?)</tr>", page, re.S).group(1)
    return [re.sub(r"<[^>]+>", "", cell) for cell in re.findall(r"<td[^>]*>(.*?)</td>", row)]


def _post_json(client, url: str, payload, token: str | None = None):
    headers = {} if token == "" else {"X-CSRFToken": token or client.csrf_token()}
    return client.post(url, json=payload, headers=headers)


def _stored(user, dataset):
    row = ColumnLayout.get_or_none(
        (ColumnLayout.user == user.id) & (ColumnLayout.dataset == dataset.id)
    )
    return row and row.layout


# --- layouts ---------------------------------------------------------------------------------
def test_each_person_keeps_their_own_layout(shared, people, editor_client, viewer_client):
    url = f"/datasets/{shared.id}"
    response = _post_json(viewer_client, f"{url}/layout", {"order": ["c3", "c1"], "hidden": ["c2"]})
    assert response.status_code == 200 and response.get_json() == {"saved": True}
    page = viewer_client.get(url).get_data(as_text=True)
    assert _headers(page) == ["city", "id", "ok", "day"]
    # The rows hold the shown columns in the same order (row number first).
    assert _first_row(page) == ["1", "Lisbon", "1", "yes", "2024-01-02"]
    assert "Columns (1 hidden)" in page
    # The owner's table is untouched; his own layout is his.
    assert _headers(editor_client.get(url).get_data(as_text=True)) == [
        "id", "name", "city", "ok", "day"
    ]  # fmt: skip
    _post_json(editor_client, f"{url}/layout", {"order": ["c5"]})
    assert _headers(editor_client.get(url).get_data(as_text=True))[0] == "day"
    assert _headers(viewer_client.get(url).get_data(as_text=True)) == ["city", "id", "ok", "day"]


def test_a_layout_belongs_to_one_dataset(app, shared, people, editor_client):
    from tests.helpers import make_dataset

    other = make_dataset(app, people["editor"], CSV, "Other visits")
    _post_json(editor_client, f"/datasets/{shared.id}/layout", {"hidden": ["c1", "c2"]})
    assert _headers(editor_client.get(f"/datasets/{other.id}").get_data(as_text=True)) == [
        "id", "name", "city", "ok", "day"
    ]  # fmt: skip
    assert _stored(people["editor"], other) is None


def test_widths_are_kept_and_drawn(shared, people, viewer_client):
    url = f"/datasets/{shared.id}"
    assert _post_json(viewer_client, f"{url}/layout", {"widths": {"c2": 240}}).status_code == 200
    assert _post_json(viewer_client, f"{url}/layout", {"widths": {"c3": "90"}}).status_code == 200
    page = viewer_client.get(url).get_data(as_text=True)
    assert 'data-column="c2" data-width="240"' in page
    assert 'data-column="c3" data-width="90"' in page


def test_unknown_columns_are_ignored(shared, people, viewer_client):
    url = f"/datasets/{shared.id}"
    response = _post_json(
        viewer_client,
        f"{url}/layout",
        {"order": ["c99", "c4", "c4"], "hidden": ["c77"], "widths": {"c88": 100}},
    )
    assert response.status_code == 200
    saved = Layout.from_json(_stored(people["viewer"], shared))
    assert saved.order == ("c4", "c1", "c2", "c3", "c5") and not saved.hidden and not saved.widths
    assert _headers(viewer_client.get(url).get_data(as_text=True))[0] == "ok"


def test_a_layout_survives_the_dataset_changing():
    """Names the dataset no longer has are skipped; columns the layout never saw come last."""
    before = make_columns(["a", "b", "c"], ["text"] * 3)
    kept = Layout(order=("c3", "c1", "c2"), hidden=frozenset({"c2"}), widths={"c2": 90})
    now = [before[0], before[2], *make_columns(["a", "b", "c", "d"], ["text"] * 4)[3:]]
    assert [c.name for c in kept.ordered(now)] == ["c3", "c1", "c4"]
    assert [c.name for c in kept.shown(now)] == ["c3", "c1", "c4"]
    assert kept.widths_of(now) == {}
    # A layout that would hide everything left shows everything instead.
    assert [c.name for c in Layout(hidden=frozenset({"c1", "c3", "c4"})).shown(now)] == [
        "c1", "c3", "c4"
    ]  # fmt: skip
    assert Layout.from_json("not json") == Layout()
    assert Layout.from_json('{"order": [1, "c1"], "widths": {"c1": 5000}}').order == ("c1",)


BAD_PAYLOADS = [
    (["c1"], "JSON object"),
    ({"order": "c1,c2"}, "must be a list"),
    ({"order": ["c1", 3]}, "not a column"),
    ({"order": ["rowid; DROP TABLE rows"]}, "not a column"),
    ({"hidden": ["c1", "c2", "c3", "c4", "c5"]}, "at least one column"),
    ({"widths": ["c1", 100]}, "pairs"),
    ({"widths": {"c1": 5}}, "between 40 and 1200"),
    ({"widths": {"c1": "wide"}}, "whole number"),
    ({"widths": {"c1": True}}, "whole number"),
    ({"widths": {"name": 100}}, "not a column"),
]


@pytest.mark.parametrize(("payload", "message"), BAD_PAYLOADS)
def test_bad_layouts_are_refused_and_change_nothing(
    shared, people, viewer_client, payload, message
):
    url = f"/datasets/{shared.id}/layout"
    assert _post_json(viewer_client, url, {"order": ["c2"], "widths": {"c2": 100}}).status_code
    kept = _stored(people["viewer"], shared)
    response = _post_json(viewer_client, url, payload)
    assert response.status_code == 400
    assert message in response.get_json()["error"]
    assert _stored(people["viewer"], shared) == kept


def test_a_body_that_is_not_json_is_refused(shared, people, viewer_client):
    response = viewer_client.post(
        f"/datasets/{shared.id}/layout",
        data="{order: nope",
        headers={"X-CSRFToken": viewer_client.csrf_token(), "Content-Type": "application/json"},
    )
    assert response.status_code == 400 and "JSON object" in response.get_json()["error"]
    assert _stored(people["viewer"], shared) is None


def test_the_layout_needs_the_csrf_token(shared, people, viewer_client):
    url = f"/datasets/{shared.id}/layout"
    assert _post_json(viewer_client, url, {"hidden": ["c1"]}, token="").status_code == 400
    assert _post_json(viewer_client, url, {"hidden": ["c1"]}, token="forged").status_code == 400
    response = viewer_client.post(url, data={"move": "up:c2"})
    assert response.status_code == 400
    assert _stored(people["viewer"], shared) is None


def test_someone_not_shared_the_dataset_gets_404(app, people, shared, custom_client):
    from tests.helpers import make_user, signed_in

    make_user("olga", "viewer")
    olga = signed_in(app, "olga")
    for client in (olga, custom_client):
        response = _post_json(client, f"/datasets/{shared.id}/layout", {"hidden": ["c1"]})
        assert response.status_code == 404
        response = client.post_form(f"/datasets/{shared.id}/layout", {"reset": "1"})
        assert response.status_code == 404
    assert ColumnLayout.select().count() == 0


def test_the_columns_menu_form_hides_moves_and_resets(shared, people, viewer_client):
    url = f"/datasets/{shared.id}"
    view = "sort=c2&c3.eq=Oslo"
    response = viewer_client.post_form(
        f"{url}/layout",
        {"order": "c1,c2,c3,c4,c5", "shown": ["c1", "c2", "c3", "c5"], "view": view},
    )
    assert response.status_code == 302
    assert response.headers["Location"] == f"{url}?sort=c2&c3.eq=Oslo#columns-menu"
    response = viewer_client.post_form(
        f"{url}/layout",
        {"order": "c1,c2,c3,c4,c5", "shown": ["c1", "c2", "c3", "c5"], "move": "up:c3"},
    )
    assert response.headers["Location"] == f"{url}#columns-up-c3"
    assert _headers(viewer_client.get(url).get_data(as_text=True)) == ["id", "city", "name", "day"]
    # Moving past either end changes nothing.
    viewer_client.post_form(f"{url}/layout", {"move": "up:c1"})
    assert _headers(viewer_client.get(url).get_data(as_text=True))[0] == "id"
    # Unticking everything is refused with a sentence; nothing changes.
    kept = _stored(people["viewer"], shared)
    response = viewer_client.post_form(f"{url}/layout", {"order": "c1,c2,c3,c4,c5"})
    assert response.status_code == 400
    assert "Keep at least one column shown" in response.get_data(as_text=True)
    response = viewer_client.post_form(f"{url}/layout", {"move": "sideways:c1"})
    assert response.status_code == 400
    assert _stored(people["viewer"], shared) == kept
    # The view to go back to is only ever this table's query arguments.
    response = viewer_client.post_form(
        f"{url}/layout", {"reset": "1", "view": "//evil.example/x?a=1"}
    )
    assert response.status_code == 302 and response.headers["Location"].startswith(f"{url}")
    assert _stored(people["viewer"], shared) is None
    assert _headers(viewer_client.get(url).get_data(as_text=True)) == [
        "id", "name", "city", "ok", "day"
    ]  # fmt: skip


def test_reset_by_json(shared, people, viewer_client):
    url = f"/datasets/{shared.id}/layout"
    _post_json(viewer_client, url, {"hidden": ["c1"]})
    assert _post_json(viewer_client, url, {"reset": True}).get_json() == {"saved": True}
    assert _stored(people["viewer"], shared) is None


def test_layouts_go_with_the_dataset(app, shared, people, viewer_client):
    _post_json(viewer_client, f"/datasets/{shared.id}/layout", {"hidden": ["c1"]})
    sharing.delete(shared, app.config["DATA_DIR"])
    assert ColumnLayout.select().count() == 0


def test_changed_merges_what_is_given():
    columns = make_columns(["a", "b", "c"], ["text"] * 3)
    start = Layout(order=("c2", "c1", "c3"), hidden=frozenset({"c3"}), widths={"c1": 80})
    moved = layouts.changed(start, columns, move="down:c2")
    assert moved.order == ("c1", "c2", "c3") and moved.hidden == {"c3"}
    assert moved.widths == {"c1": 80}
    wider = layouts.changed(start, columns, widths={"c2": 120})
    assert wider.widths == {"c1": 80, "c2": 120} and wider.order == start.order
    with pytest.raises(LayoutError):
        layouts.changed(start, columns, hidden=["c1", "c2", "c3"])


# --- sorting by a hidden column ----------------------------------------------------------------
def test_keyset_pages_sorted_by_a_hidden_column(tmp_path):
    columns = make_columns(["n", "word"], ["integer", "text"])
    con = sqlite3.connect(tmp_path / "rows.db", isolation_level=None)
    con.execute("CREATE TABLE rows (c1 INTEGER, c2 TEXT)")
    con.executemany("INSERT INTO rows VALUES (?, ?)", [(i % 7, f"w{i:02d}") for i in range(1, 31)])
    view = browse.View(sort="c1", descending=True)
    shown = [columns[1]]
    full = browse.page(con, columns, view, 100).rows
    seen, after = [], None
    while True:
        page = browse.page(con, columns, view, 4, after=after, shown=shown)
        assert all(len(row) == 2 for row in page.rows)
        seen.extend(page.rows)
        if not page.has_next:
            break
        after = page.next_cursor
    assert seen == [(row[0], row[2]) for row in full]
    jumped = browse.page(con, columns, view, 4, shown=shown, offset=8)
    assert jumped.rows == seen[8:12] and jumped.has_prev


# --- chips and operators -----------------------------------------------------------------------
def test_active_filters_are_chips_with_remove_links(shared, viewer_client):
    url = f"/datasets/{shared.id}"
    page = viewer_client.get(f"{url}?c3.eq=Oslo&c1.in=3|6|9&c5.empty=1&sort=c1").get_data(
        as_text=True
    )
    chips = re.findall(r'<li class="chip">(.*?)</li>', page, re.S)
    said = [re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", chip)).strip() for chip in chips]
    said = [chip.removesuffix(" \N{MULTIPLICATION SIGN}") for chip in said]
    assert said == ["id one of 3, 6, 9", "city is Oslo", "day is empty"]
    links = [
        html.unescape(m) for m in re.findall(r'<a class="chip-remove" href="([^"]+)"', page, re.S)
    ]
    # Each link drops its own filter and keeps the rest (and the sort).
    assert "c1.in" not in links[0] and "c3.eq=Oslo" in links[0] and "sort=c1" in links[0]
    assert "c3.eq" not in links[1] and "c1.in=3" in links[1] and "c5.empty=1" in links[1]
    removed = viewer_client.get(links[1]).get_data(as_text=True)
    assert re.findall(r'<li class="chip">', removed) == ['<li class="chip">'] * 2
    assert 'aria-label="Remove the filter: city is Oslo"' in page
    assert "Remove all filters" in page
    # The filter form is closed until asked for, even with filters active.
    assert re.search(r'<details class="filters-panel popover-menu">', page)
    assert "Filters (3)" in page


def test_no_chips_without_filters(shared, viewer_client):
    page = viewer_client.get(f"/datasets/{shared.id}").get_data(as_text=True)
    assert "Active filters" not in page and '<li class="chip">' not in page


def test_operators_fit_each_type():
    by_type = browse.OPERATORS_BY_TYPE
    assert by_type["boolean"] == ("eq", "empty", "notempty", "misfit")
    assert [t for t, ops in by_type.items() if "in" in ops] == ["text", "integer"]
    assert "contains" in by_type["text"] and all(
        "contains" not in ops for t, ops in by_type.items() if t != "text"
    )
    assert "|" not in browse.hint("text", "contains")
    assert "|" in browse.hint("text", "in") and "|" in browse.hint("integer", "in")
    assert browse.hint("date", "min") == "at least a date"
    assert browse.hint("boolean", "eq") == "yes or no"
    assert browse.hint("text", "empty") == ""


def test_the_filter_form_offers_fitting_inputs(shared, viewer_client):
    page = viewer_client.get(f"/datasets/{shared.id}?c4.eq=no").get_data(as_text=True)

    def options(column: str) -> list[str]:
        pattern = rf'<select[^>]*data-filter-op="{column}"[^>]*>(.*?)</select>'
        select = re.search(pattern, page, re.S)
        return re.findall(r'<option value="([^"]+)"', select.group(1))

    assert options("c4") == ["eq", "empty", "notempty", "misfit"]
    assert options("c3") == ["contains", "eq", "in", "empty", "notempty"]
    # Yes/no is a choice, with the active filter's answer chosen; dates get a date input.
    choice = re.search(r'<select id="f-c4"[^>]*>(.*?)</select>', page, re.S).group(1)
    assert re.findall(r'<option value="([^"]*)"', choice) == ["", "yes", "no"]
    assert '<option value="no" selected>' in choice
    assert re.search(r'<input id="f-c5" type="date"', page)
    # The hint fits the operator chosen: "contains" on text has no "a|b|c".
    assert re.search(r'data-filter-hint="c3">part of the text<', page)
    assert "a|b|c for one of" not in page


# --- page numbers ------------------------------------------------------------------------------
def _alert(page: str) -> str:
    found = re.search(r'role="alert"><p>(.*?)</p>', page, re.S)
    return html.unescape(found.group(1)) if found else ""


def test_pages_by_number(shared, viewer_client):
    url = f"/datasets/{shared.id}"
    page = viewer_client.get(url).get_data(as_text=True)
    assert "Page 1 of 3" in page and 'aria-current="page">1<' in page
    page = viewer_client.get(f"{url}?page=2").get_data(as_text=True)
    assert "Page 2 of 3" in page and _first_row(page)[0] == "51"
    # Next and previous stay keyset, carrying the number along.
    nxt = html.unescape(re.search(r'href="([^"]+)" rel="next"', page).group(1))
    assert "after=" in nxt and "page=3" in nxt
    last = viewer_client.get(nxt).get_data(as_text=True)
    assert "Page 3 of 3" in last and _first_row(last)[0] == "101"
    prev = html.unescape(re.search(r'href="([^"]+)" rel="prev"', last).group(1))
    assert "before=" in prev and "page=2" in prev
    assert "Page 3 of 3" in viewer_client.get(f"{url}?last=1").get_data(as_text=True)
    # A bookmark from before page numbers (a cursor alone) still works, without "Page N".
    old_link = nxt.replace("&page=3", "").replace("page=3&", "")
    old_page = viewer_client.get(old_link).get_data(as_text=True)
    assert _first_row(old_page)[0] == "101" and '<p class="page-of">3 pages</p>' in old_page
    # A jump works with a search (the index hands over the page) and with a sort.
    searched = viewer_client.get(f"{url}?q=name&page=3").get_data(as_text=True)
    assert "Page 3 of 3" in searched and _first_row(searched)[0] == "101"
    by_name = viewer_client.get(f"{url}?sort=c1&dir=desc&page=2").get_data(as_text=True)
    assert "Page 2 of 3" in by_name and _first_row(by_name)[0] == "70"
    # Filters count: 40 Oslo rows make one page, and no pager at all.
    one = viewer_client.get(f"{url}?c3.eq=Oslo&page=1").get_data(as_text=True)
    assert "Page 1 of" not in one and "Go to page" not in one
    # The go-to-page form keeps the view.
    sorted_page = viewer_client.get(f"{url}?sort=c2&dir=desc").get_data(as_text=True)
    form = re.search(r'<form method="get" class="goto-page">(.*?)</form>', sorted_page, re.S)
    assert 'name="sort" value="c2"' in form.group(1) and 'name="dir" value="desc"' in form.group(1)


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("abc", "“abc” is not a page number"),
        ("-1", "Page numbers start at 1."),
        ("0", "Page numbers start at 1."),
        ("1.5", "is not a page number"),
        ("4", "There are only 3 pages"),
        ("99999999999999999999999999999999", "There are only 3 pages"),
        ("9" * 5000, "There are only 3 pages"),
        ("٣", "is not a page number"),
    ],
)
def test_bad_page_numbers_say_why(shared, viewer_client, raw, message):
    response = viewer_client.get(f"/datasets/{shared.id}?c1.min=1&page={raw}")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert message in _alert(page)
    # The view is kept; its first page is shown.
    assert "Page 1 of 3" in page and '<li class="chip">' in page
    assert _first_row(page)[0] == "1"


def test_page_number_helpers():
    assert browse.page_number(None, 3) is None and browse.page_number(" 2 ", 3) == 2
    assert browse.page_count(0, 50) == 1 and browse.page_count(101, 50) == 3
    assert browse.page_links(1, 1) == [1]
    assert browse.page_links(1, 10) == [1, 2, 3, None, 10]
    assert browse.page_links(6, 20) == [1, None, 4, 5, 6, 7, 8, None, 20]
    assert browse.page_links(None, 3) == [1, 2, 3]
