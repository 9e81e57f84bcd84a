"""Editing rows: a row in a form (typed fields built from the dataset's columns), a new row,
rows deleted, one cell edited in the table, and a row's history. Each change needs edit access
to the dataset and names the version it was made on."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import (
    DateField,
    DateTimeLocalField,
    DecimalField,
    IntegerField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import NumberRange, Optional

from .. import versions
from ..catalog import columns_of, may
from ..cleaning import rows
from ..storage import INT64, Column
from .access import dataset_or_404, limit_of, row_visible
from .history_pages import base_version

bp = Blueprint("rows", __name__)


def _field(column: Column):
    """The WTForms field that fits the column's type; every field may be left empty."""
    label, optional = column.label, [Optional()]
    return {
        "integer": lambda: IntegerField(label, [*optional, NumberRange(*INT64)]),
        "real": lambda: DecimalField(label, optional, places=None),
        "date": lambda: DateField(label, optional),
        "datetime": lambda: DateTimeLocalField(
            label, optional, format=["%Y-%m-%dT%H:%M:%S", "%Y-%m-%dT%H:%M"]
        ),
        "boolean": lambda: SelectField(
            label,
            choices=[SelectChoice("", "—"), SelectChoice("yes", "Yes"), SelectChoice("no", "No")],
        ),
        "text": lambda: TextAreaField(label, optional, render_kw={"rows": 1}),
    }.get(column.type, lambda: StringField(label, optional))()


def row_form(columns: list[Column], values: dict[str, Any] | None = None) -> FlaskForm:
    """A form with one typed field per column, filled with ``values`` (as stored)."""

    class RowForm(FlaskForm):
        version = StringField()

    for column in columns:
        setattr(RowForm, column.name, _field(column))
    form = RowForm()
    if request.method == "GET" and values is not None:
        for column in columns:
            getattr(form, column.name).data = _shown(column, values.get(column.name))
    return form


def _shown(column: Column, value: Any) -> Any:
    """A stored value as the form field holds it."""
    if value is None:
        return "" if column.type == "boolean" else None
    try:
        if column.type == "date":
            return date.fromisoformat(str(value))
        if column.type == "datetime":
            return datetime.fromisoformat(str(value))
        if column.type == "boolean":
            return "yes" if value == 1 else "no" if value == 0 else ""
        if column.type == "real":
            return Decimal(str(value))
    except ValueError:
        return None
    return value


def _as_text(value: Any) -> str:
    """A form field's value as the text :func:`rows.parse_value` reads."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def _read_row(dataset, row_id: int) -> dict[str, Any]:
    row = versions.read_row(dataset, columns_of(dataset), row_id, current_app.config["DATA_DIR"])
    if not row_visible(dataset, row):  # not there, or outside the person's row rules
        abort(404)
    return row


def _within(dataset):
    """The person's row rules as the row changes check them (None: every row)."""
    limit = limit_of(dataset)
    return None if limit is None else limit.allows


def _said(dataset, exc: ValueError) -> str:
    """What a refused change tells the person: someone limited by row rules is not told what
    another's change was (it may name values of rows they do not see)."""
    if isinstance(exc, versions.Stale) and limit_of(dataset) is not None:
        return exc.briefly
    return str(exc)


def _user():
    return current_user._get_current_object()


@bp.route("/datasets/<int:dataset_id>/rows/<int:row_id>/edit", methods=["GET", "POST"])
def row_edit(dataset_id: int, row_id: int) -> str | Response:
    dataset = dataset_or_404(dataset_id, "edit")
    columns = columns_of(dataset)
    values = _read_row(dataset, row_id)
    form = row_form(columns, values)
    problem = None
    if request.method == "POST":
        if form.validate_on_submit():
            sent = {
                c.name: _as_text(getattr(form, c.name).data)
                for c in columns
                if c.name in request.form
            }
            changed = {
                name: text
                for name, text in sent.items()
                if rows.parse_value(_column(columns, name), text) != values.get(name)
            }
            try:
                if changed:
                    version = rows.edit_row(
                        dataset.id,
                        base_version(),
                        row_id,
                        changed,
                        _user(),
                        current_app.config["DATA_DIR"],
                        within=_within(dataset),
                    )
                    flash(f"Saved: {version.summary} (version {version.number:,}).", "success")
                else:
                    flash("Nothing changed.", "info")
                return redirect(url_for("datasets.dataset_view", dataset_id=dataset.id))
            except (rows.RowError, versions.VersionError) as exc:
                problem = _said(dataset, exc)
        else:
            problem = "Some values do not fit their column: see the fields below."
    return render_template(
        "datasets/row_form.html",
        dataset=dataset,
        form=form,
        columns=columns,
        row_id=row_id,
        problem=problem,
    ), (400 if problem else 200)


def _column(columns: list[Column], name: str) -> Column:
    return next(c for c in columns if c.name == name)


@bp.route("/datasets/<int:dataset_id>/rows/new", methods=["GET", "POST"])
def row_new(dataset_id: int) -> str | Response:
    dataset = dataset_or_404(dataset_id, "edit")
    columns = columns_of(dataset)
    form = row_form(columns)
    problem = None
    if request.method == "POST":
        if form.validate_on_submit():
            values = {c.name: _as_text(getattr(form, c.name).data) for c in columns}
            try:
                version = rows.add_row(
                    dataset.id,
                    base_version(),
                    values,
                    _user(),
                    current_app.config["DATA_DIR"],
                    within=_within(dataset),
                )
            except (rows.RowError, versions.VersionError) as exc:
                problem = _said(dataset, exc)
            else:
                flash(f"Added a row (version {version.number:,}).", "success")
                return redirect(url_for("datasets.dataset_view", dataset_id=dataset.id, last=1))
        else:
            problem = "Some values do not fit their column: see the fields below."
    return render_template(
        "datasets/row_form.html",
        dataset=dataset,
        form=form,
        columns=columns,
        row_id=None,
        problem=problem,
    ), (400 if problem else 200)


@bp.route("/datasets/<int:dataset_id>/rows/delete", methods=["POST"])
def rows_delete(dataset_id: int) -> Response:
    dataset = dataset_or_404(dataset_id, "edit")
    if FlaskForm().validate_on_submit():
        try:
            chosen = [int(value) for value in request.form.getlist("row")]
            version = rows.delete_rows(
                dataset.id,
                base_version(),
                chosen,
                _user(),
                current_app.config["DATA_DIR"],
                within=_within(dataset),
            )
        except ValueError as exc:  # RowError and VersionError are ValueErrors too
            message = (
                _said(dataset, exc)
                if isinstance(exc, rows.RowError | versions.VersionError)
                else ("Choose the rows to delete.")
            )
            flash(message, "error")
        else:
            flash(
                f"{version.summary} (version {version.number:,}). Undo brings them back.", "success"
            )
    return redirect(url_for("datasets.dataset_view", dataset_id=dataset.id))


@bp.route("/datasets/<int:dataset_id>/rows/<int:row_id>/cell", methods=["POST"])
def cell_edit(dataset_id: int, row_id: int) -> tuple[Response, int]:
    """One cell typed in the table (answers JSON for the page's script)."""
    dataset = dataset_or_404(dataset_id, "edit")
    name = request.form.get("column", "")
    seen = request.form.get("before")
    try:
        version = rows.edit_row(
            dataset.id,
            base_version(),
            row_id,
            {name: request.form.get("value", "")},
            _user(),
            current_app.config["DATA_DIR"],
            seen=None if seen is None else {name: seen},
            within=_within(dataset),
        )
    except (rows.RowError, versions.VersionError) as exc:
        return jsonify({"error": _said(dataset, exc)}), 400
    value = _read_row(dataset, row_id)[name]
    column = next(c for c in columns_of(dataset) if c.name == name)
    answer = {"value": value, "shown": rows.shown(column, value), "version": version.number}
    return jsonify({**answer, "summary": version.summary}), 200


@bp.route("/datasets/<int:dataset_id>/rows/<int:row_id>/history")
def row_history(dataset_id: int, row_id: int) -> str:
    """A row's changes. A person limited by row rules sees the history of a row they see now,
    and only the changes whose before and after were both among their rows (a row that came
    to them from someone else's shows nothing of its time there)."""
    dataset = dataset_or_404(dataset_id)
    columns = columns_of(dataset)
    changes = rows.row_history(dataset, row_id)
    limit = limit_of(dataset)
    if limit is not None:
        _read_row(dataset, row_id)  # 404 unless the row is among theirs now
        changes = [
            (version, before, after)
            for version, before, after in changes
            if all(limit.allows(side) for side in (before, after) if side)
        ]
    return render_template(
        "datasets/row_history.html",
        dataset=dataset,
        columns=columns,
        row_id=row_id,
        changes=changes,
        editable=may(current_user, dataset, "edit"),
    )
