"""The table's rows written in Python (server/datasets/web/table_html.py) give the same markup
as the Jinja loop they replaced: the same cells, classes, titles, empty cells and editing
links, with every value escaped."""

from __future__ import annotations

import pytest

from server.datasets.storage import Column
from server.datasets.web.table_html import table_body

# The template's loop before it became table_body (view.html), kept here as the reference.
REFERENCE = """\
{%- for row in rows %}<tr><td class="rownum">{% if editing %}<input type="checkbox" name="row" \
value="{{ row[0] }}" form="delete-rows" aria-label="Choose row {{ row[0] }}"> <a href="{{ \
url_for('rows.row_edit', dataset_id=dataset_id, row_id=row[0]) }}" aria-label="Edit row {{ \
row[0] }}">{{ row[0] }}</a>{% else %}{{ row[0] }}{% endif %}</td>{% for value in row[1:] %}{% \
set kind = columns[loop.index0].type %}{% if value is none %}<td class="{{ kind }}"><span \
class="empty-cell">empty</span></td>{% elif value|misfit(kind) %}<td class="{{ kind }} misfit" \
title="Kept as written: not {{ kind|type_label|lower }}">{{ value }}</td>{% elif kind == \
'boolean' %}<td class="{{ kind }}">{{ 'yes' if value == 1 else 'no' }}</td>{% else %}<td \
class="{{ kind }}">{{ value }}</td>{% endif %}{% endfor %}</tr>
{% else %}<tr><td colspan="{{ columns|length + 1 }}" class="muted">{{ 'No rows match.' if \
narrowed else 'No rows.' }}</td></tr>{% endfor %}"""

COLUMNS = [
    Column("c1", "Name", "text"),
    Column("c2", "Count", "integer"),
    Column("c3", "Amount", "real"),
    Column("c4", "Paid", "boolean"),
    Column("c5", "Day", "date"),
    Column("c6", "When", "datetime"),
]

ROWS = [
    (1, "Ann <b>&</b> \"Bo\" 'x'", 3, 2.5, 1, "2024-02-29", "2024-02-29 10:11:12"),
    (2, None, None, None, None, None, None),
    (3, "", "12 apples", "about 3", "maybe", "31/12/2024", "not a time"),
    (40, "王伟", 0, 0, 0, "2024-13-01", "2024-01-01T00:00:00"),
    (51, "<script>alert(1)</script>", -7, 1e16, 2, 20240101, 3.5),
    (7, "line\nbreak", 10**20, float("nan"), 1.0, "2024-1-5", "2024-01-05"),
]


def _reference(app, rows, columns, *, editing, narrowed, dataset_id=5) -> str:
    with app.test_request_context("/"):
        return app.jinja_env.from_string(REFERENCE).render(
            rows=rows, columns=columns, editing=editing, narrowed=narrowed, dataset_id=dataset_id
        )


def _ours(app, rows, columns, *, editing, narrowed, dataset_id=5) -> str:
    with app.test_request_context("/"):
        return str(
            table_body(rows, columns, editing=editing, narrowed=narrowed, dataset_id=dataset_id)
        )


@pytest.mark.parametrize("editing", [False, True])
def test_rows_are_written_as_the_template_wrote_them(app, editing):
    ours = _ours(app, ROWS, COLUMNS, editing=editing, narrowed=False)
    assert ours == _reference(app, ROWS, COLUMNS, editing=editing, narrowed=False)
    assert "&lt;script&gt;" in ours and "<script>" not in ours
    assert ours.count("<tr>") == len(ROWS)


def test_cells_say_what_they_hold(app):
    ours = _ours(app, ROWS, COLUMNS, editing=True, narrowed=False)
    first = ours.splitlines()[0]
    assert '<a href="/datasets/5/rows/1/edit" aria-label="Edit row 1">1</a>' in first
    assert '<input type="checkbox" name="row" value="1" form="delete-rows"' in first
    assert '<td class="boolean">yes</td>' in first
    assert '<td class="text">Ann &lt;b&gt;&amp;&lt;/b&gt; &#34;Bo&#34; &#39;x&#39;</td>' in first
    empties = ours.splitlines()[1]
    assert empties.count('<span class="empty-cell">empty</span>') == len(COLUMNS)
    misfits = ours.splitlines()[2]
    assert '<td class="integer misfit" title="Kept as written: not whole number">' in misfits
    assert '<td class="boolean misfit"' in misfits and ">maybe</td>" in misfits
    assert '<td class="text"></td>' in misfits  # an empty text is not an empty cell


def test_a_reader_gets_plain_row_numbers(app):
    ours = _ours(app, ROWS[:1], COLUMNS, editing=False, narrowed=False)
    assert ours.startswith('<tr><td class="rownum">1</td><td class="text">')
    assert "<input" not in ours and "<a " not in ours


@pytest.mark.parametrize("narrowed", [False, True])
def test_no_rows(app, narrowed):
    ours = _ours(app, [], COLUMNS, editing=True, narrowed=narrowed)
    assert ours.strip() == _reference(app, [], COLUMNS, editing=True, narrowed=narrowed).strip()
    assert ours == (
        f'<tr><td colspan="7" class="muted">{"No rows match." if narrowed else "No rows."}'
        "</td></tr>"
    )


def test_only_the_shown_columns(app):
    """The rows hold the person's shown columns in their order (a layout): the cells follow."""
    shown = [COLUMNS[3], COLUMNS[0]]
    rows = [(9, 0, "Zed"), (10, None, None)]
    ours = _ours(app, rows, shown, editing=False, narrowed=False)
    assert ours == _reference(app, rows, shown, editing=False, narrowed=False)
    assert '<td class="rownum">9</td><td class="boolean">no</td><td class="text">Zed</td>' in ours
