"""Facets and summaries of the current view: the table page's facets (HTML fragments its
script fetches after the page has rendered), the summary page with its chart and CSV export,
and the same two as JSON in the API's blueprint (/api/v1, :mod:`.api`).

Anyone who may read a dataset may see its facets and summaries (:func:`dataset_or_404`);
exporting a summary needs ``datasets.export`` and is audited like a dataset's export. Rows are
read through :func:`access.rows_of` (and ``open_rows``, for a summary's second thread) only.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator

from flask import Blueprint, Response, abort, jsonify, render_template, request, url_for
from flask_login import current_user

from ...audit_trail import record
from ...downloads import attachment, download_name, save_target, saved
from ...formula_guard import neutralise
from ...models import Dataset
from ...permissions import has_permission, require_permission
from ..catalog import columns_of
from ..reading import browse, charts, facets, summary
from ..storage import Column
from . import api
from .access import dataset_or_404, open_rows, rows_of, version_key
from .summary_form import SummaryForm

bp = Blueprint("analysis", __name__)
facet_cache = facets.FacetCache()
summary_cache = summary.SummaryCache()


def _column_or_404(columns: list[Column], name: str) -> Column:
    found = next((c for c in columns if c.name == name), None)
    if found is None:
        abort(404)
    return found


def _facet_of(dataset: Dataset, name: str) -> tuple[browse.View, facets.Facet]:
    """The facet of column ``name`` for the request's view (BadView for a view that cannot
    apply, IndexBuilding for a search that must wait for its index)."""
    columns = columns_of(dataset)
    column = _column_or_404(columns, name)
    view = browse.View.from_args(request.args, columns)
    with rows_of(dataset) as con:
        searchable = browse.has_search_index(con)
        browse.require_search_index(con, view)
        found, _ = facet_cache.get(con, version_key(dataset), columns, column, view, searchable)
    return view, found


def _chosen(view: browse.View, item: facets.FacetItem) -> bool:
    """Whether the view already narrows to this item (its link then removes that)."""
    args = view.args()
    return bool(item.filters) and all(args.get(k) == v for k, v in item.filters.items())


def facet_link(dataset: Dataset, view: browse.View, item: facets.FacetItem) -> str:
    """The table page narrowed to ``item`` (or, when it is already, widened again)."""
    args = view.args()
    if _chosen(view, item):
        for key in item.filters:
            args.pop(key, None)
    else:
        args.update(item.filters)
    return url_for("datasets.dataset_view", dataset_id=dataset.id, **args)


@bp.route("/datasets/<int:dataset_id>/facets/<column>")
def dataset_facet(dataset_id: int, column: str) -> str | tuple[str, int]:
    """One column's facet as an HTML fragment for the table page."""
    dataset = dataset_or_404(dataset_id)
    try:
        view, found = _facet_of(dataset, column)
    except browse.BadView as exc:
        label = _column_or_404(columns_of(dataset), column).label
        return render_template("datasets/_facet.html", label=label, problem=str(exc)), 200
    empty_args = {**view.args(), f"{found.column.name}.empty": "1"}
    return render_template(
        "datasets/_facet.html",
        label=found.column.label,
        facet=found,
        view=view,
        chosen=lambda item: _chosen(view, item),
        link=lambda item: facet_link(dataset, view, item),
        empty_link=url_for("datasets.dataset_view", dataset_id=dataset.id, **empty_args),
        problem=None,
    )


@api.bp.route("/datasets/<int:dataset_id>/facets/<column>", endpoint="facet")
def api_facet(dataset_id: int, column: str) -> Response | tuple[Response, int]:
    dataset = dataset_or_404(dataset_id)
    try:
        _, found = _facet_of(dataset, column)
    except browse.BadView as exc:
        return jsonify(error=str(exc)), 400
    return jsonify(
        column=found.column.as_dict(),
        kind=found.kind,
        period=found.period or None,
        empty=found.empty,
        more=found.more,
        items=[
            {"label": i.label, "count": i.count, "value": i.value, "filters": i.filters}
            for i in found.items
        ],
    )


def key_label(grouping: summary.Grouping, value: object) -> str:
    """A group's key as people read it."""
    if value is None:
        return "(empty)"
    if grouping.column.type == "boolean" and value in (0, 1):
        return "yes" if value == 1 else "no"
    if grouping.period == "week":
        return f"week of {value}"
    return str(value)


def _summary_of(
    dataset: Dataset, form: SummaryForm, columns: list[Column], view: browse.View
) -> tuple[summary.Summary | None, str | None]:
    """The summary the form asks for, or None with a sentence saying why not (None, None
    before anything is asked)."""
    if not form.asked:
        return None, None
    plan = form.plan()
    if plan is None:
        return None, "Some choices need changing: see the fields marked below."
    groupings, measures = plan
    try:
        with rows_of(dataset) as con:
            searchable = browse.has_search_index(con)
            browse.require_search_index(con, view)
            found, _ = summary_cache.get(
                con,
                version_key(dataset),
                columns,
                view,
                searchable,
                groupings,
                measures,
                more=lambda: open_rows(dataset),  # a large summary is shared by two threads
            )
    except (browse.BadView, summary.SummaryError) as exc:
        return None, str(exc)
    return found, None


def _chart_of(found: summary.Summary) -> charts.Chart | None:
    if not found.rows:
        return None
    first = found.measures[0]
    width = len(found.groupings)
    groups = [
        (" · ".join(key_label(g, row[i]) for i, g in enumerate(found.groupings)), row[width])
        for row in found.rows
    ]
    if any(isinstance(value, str) for _, value in groups):
        return None  # the minimum or maximum of a text or date column: a table, no bars
    x_label = " and ".join(g.label for g in found.groupings)
    return charts.summary_chart(f"{first.label} by {x_label}", x_label, first.label, groups)


RENDERINGS_KEPT = 8  # per cached summary: its table and chart for a few layouts and links


def _result_html(dataset: Dataset, found: summary.Summary, layout: str, may_export: bool) -> str:
    """The summary's table and chart, rendered the first time they are shown this way (the
    layout, the export link and its arguments) and kept with the cached summary: a summary of
    hundreds of groups then costs no template time when looked at again."""
    query = request.query_string.decode("utf-8", "replace")
    key = f"{layout}|{may_export}|{dataset.name}|{query}"  # a rename changes no version
    html = found.rendered.get(key)
    if html is None:
        chart = _chart_of(found)
        html = render_template(
            "datasets/_summary_result.html",
            dataset=dataset,
            summary=found,
            pivot=summary.pivot(found) if layout == "pivot" else None,
            chart=chart,
            picture=charts.svg(chart) if chart is not None else None,
            max_bars=charts.MAX_SUMMARY_BARS,
            key_label=key_label,
            may_export=may_export,
            max_groups=summary.MAX_GROUPS,
        )
        if len(found.rendered) >= RENDERINGS_KEPT:
            found.rendered.clear()
        found.rendered[key] = html
    return html


@bp.route("/datasets/<int:dataset_id>/summary")
def dataset_summary(dataset_id: int) -> tuple[str, int]:
    dataset = dataset_or_404(dataset_id)
    columns = columns_of(dataset)
    view = browse.View.from_args(request.args, columns)
    form = SummaryForm(request.args, columns)
    found, problem = _summary_of(dataset, form, columns, view)
    may_export = has_permission(current_user, "datasets.export")
    result = None
    if found is not None:
        result = _result_html(dataset, found, form.layout.data, may_export)
    return render_template(
        "datasets/summary.html",
        dataset=dataset,
        columns=columns,
        view=view,
        form=form,
        summary=found,
        result_html=result,
        problem=problem,
        operators=browse.OPERATORS,
        form_args={k: v for k, v in form.data.items() if v},
    ), (400 if problem else 200)


def _csv_chunks(found: summary.Summary) -> Iterator[bytes]:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([neutralise(h) for h in found.headers])
    width = len(found.groupings)
    for row in found.rows:
        keys = [
            neutralise("" if v is None else key_label(g, v))
            for g, v in zip(found.groupings, row[:width], strict=True)
        ]
        writer.writerow([*keys, *("" if v is None else neutralise(v) for v in row[width:])])
    yield out.getvalue().encode("utf-8")


@bp.route("/datasets/<int:dataset_id>/summary.csv")
@require_permission("datasets.export")
def dataset_summary_csv(dataset_id: int) -> Response:
    dataset = dataset_or_404(dataset_id)
    columns = columns_of(dataset)
    view = browse.View.from_args(request.args, columns)
    form = SummaryForm(request.args, columns)
    found, problem = _summary_of(dataset, form, columns, view)
    if found is None:
        return Response(
            problem or "Choose a column to group by.", status=400, mimetype="text/plain"
        )
    target = save_target()
    record(
        "dataset.summary_exported",
        object_type="dataset",
        object_id=dataset.id,
        details={
            "format": "csv",
            "rows": len(found.rows),
            "summary": {k: v for k, v in form.data.items() if v},
            "view": view.args(),
        },
    )
    if target is not None:
        return saved(_csv_chunks(found), target)
    name = download_name(f"{dataset.name} summary", "csv")
    return Response(_csv_chunks(found), mimetype="text/csv", headers=attachment(name))


@api.bp.route("/datasets/<int:dataset_id>/summary", endpoint="summary")
def api_summary(dataset_id: int) -> Response | tuple[Response, int]:
    dataset = dataset_or_404(dataset_id)
    columns = columns_of(dataset)
    view = browse.View.from_args(request.args, columns)
    form = SummaryForm(request.args, columns)
    if not form.asked:
        return jsonify(error="Choose a column to group by (by=c1)."), 400
    found, problem = _summary_of(dataset, form, columns, view)
    if found is None:
        errors = {name: list(messages) for name, messages in form.errors.items()}
        said = " ".join(m for messages in errors.values() for m in messages)
        return jsonify(error=said or problem, fields=errors), 400
    return jsonify(
        groups=[{"column": g.column.name, "period": g.period or None} for g in found.groupings],
        measures=[
            {"function": m.function, "column": m.column.name if m.column else None}
            for m in found.measures
        ],
        headers=found.headers,
        rows=[list(row) for row in found.rows],
        truncated=found.truncated,
    )
