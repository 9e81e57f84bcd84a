"""The table page's rows as HTML, written in Python rather than by Jinja loops.

A page of 50 rows by 10 columns is 500 cells; as template loops they took about half of the
page's time (issue #17's benchmark). This writes the same markup — the same cells, classes,
titles, empty cells and editing links as the template did — with one tag string per column
worked out before the rows, and markupsafe's escaping of every value, as Jinja's autoescape.
Registered as the template global ``table_body`` (see :func:`register`)."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from flask import Flask, url_for
from markupsafe import Markup, escape

from ...template_filters import misfit, type_label
from ..storage import Column

_SENTINEL = 918_273_645  # a row number no URL holds otherwise: replaced by each row's own


def _fits(kind: str) -> Callable[[object], bool]:
    """Whether a stored (non-empty) value fits a column of type ``kind``: the same answer as
    template_filters.misfit, without its type dispatch for the common types."""
    if kind == "text":
        return lambda value: True
    if kind == "integer":
        return lambda value: isinstance(value, int)
    if kind == "real":
        return lambda value: isinstance(value, int | float)
    if kind == "boolean":
        return lambda value: value in (0, 1)
    return lambda value: not misfit(value, kind)


def _cell_writer(kind: str) -> Callable[[object], str]:
    """A function writing one ``<td>`` of a column of type ``kind``."""
    plain = f'<td class="{escape(kind)}">'
    empty = f'{plain}<span class="empty-cell">empty</span></td>'
    wrong = (
        f'<td class="{escape(kind)} misfit" '
        f'title="Kept as written: not {escape(type_label(kind).lower())}">'
    )
    fits = _fits(kind)
    if kind == "boolean":

        def write(value: object) -> str:
            if value is None:
                return empty
            if not fits(value):
                return f"{wrong}{escape(value)}</td>"
            return f"{plain}{'yes' if value == 1 else 'no'}</td>"

    elif kind in ("integer", "real"):  # a number's text holds nothing to escape

        def write(value: object) -> str:
            if value is None:
                return empty
            if not fits(value):
                return f"{wrong}{escape(value)}</td>"
            return f"{plain}{value}</td>"

    else:

        def write(value: object) -> str:
            if value is None:
                return empty
            if not fits(value):
                return f"{wrong}{escape(value)}</td>"
            return f"{plain}{escape(value)}</td>"

    return write


def table_body(
    rows: Sequence[Sequence[object]],
    columns: Sequence[Column],
    *,
    editing: bool,
    narrowed: bool,
    dataset_id: int,
) -> Markup:
    """The ``<tr>`` rows of the table: each row is its row number then one value per column
    of ``columns``. An editor gets a checkbox (for "Delete chosen rows") and an edit link on
    each row number. No rows gives the one-cell "No rows." (or "No rows match.") row."""
    if not rows:
        message = "No rows match." if narrowed else "No rows."
        empty_row = f'<tr><td colspan="{len(columns) + 1}" class="muted">{message}</td></tr>'
        return Markup(empty_row)  # noqa: S704 - no value in it, only a count and a sentence
    writers = [_cell_writer(column.type) for column in columns]
    if editing:
        link = escape(url_for("rows.row_edit", dataset_id=dataset_id, row_id=_SENTINEL))
        head, _, tail = link.rpartition(str(_SENTINEL))
    out = []
    for row in rows:
        number = escape(row[0])
        if editing:
            out.append(
                f'<tr><td class="rownum"><input type="checkbox" name="row" value="{number}" '
                f'form="delete-rows" aria-label="Choose row {number}"> '
                f'<a href="{head}{number}{tail}" aria-label="Edit row {number}">'
                f"{number}</a></td>"
            )
        else:
            out.append(f'<tr><td class="rownum">{number}</td>')
        out.extend([write(value) for write, value in zip(writers, row[1:], strict=False)])
        out.append("</tr>\n")
    return Markup("".join(out))  # noqa: S704 - every value in it went through escape()


def register(app: Flask) -> None:
    """Make :func:`table_body` a global of the app's templates."""
    app.jinja_env.globals["table_body"] = table_body
