"""The profile and chart pages. Both follow the table's current view (its filters and search,
carried in the query string) and say so, with a way back to the table in that view and a way to
the whole dataset. A large dataset's first profile runs in the background (see
:mod:`..reading.profile_jobs`) while the page shows its progress.

The routes hang on the datasets blueprint of :mod:`.pages`, so their names stay
``datasets.dataset_profile`` and ``datasets.dataset_chart``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace

from flask import Response, abort, current_app, jsonify, render_template, request

from ...downloads import attachment, download_name, save_target, saved
from ...models import Dataset
from ..catalog import columns_of
from ..reading import browse, charts
from ..reading.profile import ProfileCache
from ..reading.profile_jobs import ProfileRunner
from ..reading.scope import EVERY, Scope, describe
from ..storage import Column
from .access import count_of, dataset_or_404, open_rows, rows_of, rows_seen, version_key
from .pages import bp

profiles = ProfileCache()
runner = ProfileRunner(profiles)
BACKGROUND_ROWS = 100_000  # the first profile of a dataset this large runs in the background

# The fields each kind of chart reads; any other field sent is ignored.
CHART_FIELDS = {
    "bar": ("column", "by", "stack"),
    "histogram": ("column",),
    "line": ("date", "agg", "value", "period"),
    "scatter": ("x", "y"),
}


@dataclass(frozen=True)
class Looked:
    """The view a profile or chart follows: its rows, and what to tell the person."""

    view: browse.View
    scope: Scope
    rows: int
    said: str  # the view in words, "" for the whole dataset
    problem: str | None = None  # a filter that cannot apply (the whole dataset is used)
    notice: str | None = None  # the search index is still being built (search left out)


def look(dataset: Dataset, con, columns: list[Column], args: Mapping[str, str]) -> Looked:
    """The view ``args`` ask for, as rows to profile or chart. A view that cannot apply falls
    back to the whole dataset with a sentence saying why; a search waiting for its index is
    left out meanwhile."""
    view = browse.View.from_args(args, columns)
    searchable = browse.has_search_index(con)
    notice = None
    try:
        browse.require_search_index(con, view)
    except browse.IndexBuilding as exc:
        notice, view = str(exc), replace(view, search="")
    try:
        scope = Scope.of(view, columns, searchable)
        rows = count_of(dataset, con, columns, view, searchable)
    except browse.BadView as exc:
        return Looked(browse.View(), EVERY, rows_seen(dataset), "", str(exc), notice)
    return Looked(view, scope, rows, describe(view, columns), None, notice)


def _background_rows() -> int:
    return int(current_app.config.get("PROFILE_BACKGROUND_ROWS", BACKGROUND_ROWS))


@bp.route("/datasets/<int:dataset_id>/profile")
def dataset_profile(dataset_id: int) -> str:
    dataset = dataset_or_404(dataset_id)
    columns = columns_of(dataset)
    found, cached, job = None, False, None
    with rows_of(dataset) as con:
        looked = look(dataset, con, columns, request.args)
        key = profiles.key(version_key(dataset), columns, looked.scope)
        found = profiles.peek(version_key(dataset), columns, looked.scope)
        cached = found is not None
        if found is None and looked.rows:
            if dataset.row_count >= _background_rows():  # a scan of every row, filtered or not
                job = runner.start(key, columns, looked.scope, lambda: open_rows(dataset))
            else:
                found, cached = profiles.get(con, version_key(dataset), columns, looked.scope)
    return render_template(
        "datasets/profile.html",
        dataset=dataset,
        profiles=found or [],
        cached=cached,
        job=job.status() if job else None,
        looked=looked,
        view_args=looked.view.args(),
    )


@bp.route("/datasets/<int:dataset_id>/profile/status")
def dataset_profile_status(dataset_id: int) -> Response:
    """How far the view's profile is (JSON, polled by the profile page): ``done`` once it is
    kept, else ``waiting`` or ``running`` with ``done`` of ``total`` columns and ``percent``,
    or ``failed`` with ``error``. Asking starts it when nothing is on its way."""
    dataset = dataset_or_404(dataset_id)
    columns = columns_of(dataset)
    with rows_of(dataset) as con:
        looked = look(dataset, con, columns, request.args)
    key = profiles.key(version_key(dataset), columns, looked.scope)
    if profiles.peek(version_key(dataset), columns, looked.scope) is not None or not looked.rows:
        total = len(columns)
        return jsonify(
            status="done",
            done=total,
            total=total,
            percent=100,
            column="",
            error=None,
            rows=looked.rows,
        )
    job = runner.job(key) or runner.start(key, columns, looked.scope, lambda: open_rows(dataset))
    return jsonify({**job.status(), "rows": looked.rows})


def chart_args(args: Mapping[str, str]) -> dict[str, str]:
    """The chart's own fields from ``args``: only those its kind reads (``value`` only for a
    sum or mean), so a field left over from another kind changes nothing."""
    kind = args.get("kind", "")
    if kind not in CHART_FIELDS:
        return {"kind": kind} if kind else {}
    out = {"kind": kind}
    for name in CHART_FIELDS[kind]:
        value = str(args.get(name, ""))[:100]
        if value:
            out[name] = value
    if kind == "line" and out.get("agg", "count") == "count":
        out.pop("value", None)
    if kind == "bar" and "by" not in out:
        out.pop("stack", None)
    return out


def _column(columns: dict[str, Column], name: str | None, missing: str) -> Column:
    if not name:
        raise charts.ChartError(missing)
    if name not in columns:
        raise charts.ChartError("That column is not in this dataset: choose one from the list.")
    return columns[name]


def draw(con, columns: list[Column], asked: Mapping[str, str], scope: Scope) -> charts.Chart:
    """The chart ``asked`` (from :func:`chart_args`), over ``scope``; ChartError says what to
    change."""
    by_name = {c.name: c for c in columns}
    kind = asked.get("kind", "")
    if kind == "bar":
        column = _column(by_name, asked.get("column"), "Choose the column whose values to count.")
        if not asked.get("by"):
            return charts.bar_chart(con, column, scope=scope)
        by = _column(by_name, asked.get("by"), "")
        if by.name == column.name:
            raise charts.ChartError("Split the bars by another column than the one they count.")
        stack = asked.get("stack", "grouped")
        if stack not in charts.STACKINGS:
            raise charts.ChartError("Choose bars side by side or stacked.")
        return charts.split_bar_chart(con, column, by, stacked=stack == "stacked", scope=scope)
    if kind == "histogram":
        column = _column(by_name, asked.get("column"), "Choose a number or date column.")
        return charts.histogram_chart(con, column, scope=scope)
    if kind == "line":
        date = _column(by_name, asked.get("date"), "Choose a date column.")
        agg = asked.get("agg", "count")
        value = None
        if agg in ("sum", "mean"):
            value = _column(
                by_name,
                asked.get("value"),
                "Sum and mean need a number column: choose one under “Of”.",
            )
        return charts.line_chart(con, date, value, agg, asked.get("period", "month"), scope=scope)
    if kind == "scatter":
        x = _column(by_name, asked.get("x"), "Choose a number column for across (X).")
        y = _column(by_name, asked.get("y"), "Choose a number column for up (Y).")
        if x.name == y.name:
            raise charts.ChartError("Choose two different number columns.")
        return charts.scatter_chart(con, x, y, scope=scope)
    raise charts.ChartError("Choose a kind of chart: bars, histogram, over time or scatter.")


@bp.route("/datasets/<int:dataset_id>/chart")
def dataset_chart(dataset_id: int) -> tuple[str, int]:
    dataset = dataset_or_404(dataset_id)
    columns = columns_of(dataset)
    asked = chart_args(request.args)
    chart = picture = problem = None
    with rows_of(dataset) as con:
        looked = look(dataset, con, columns, request.args)
        if asked and looked.rows:
            try:
                chart = draw(con, columns, asked, looked.scope)
                picture = charts.svg(chart)
            except charts.ChartError as exc:
                problem = str(exc)
    page = render_template(
        "datasets/chart.html",
        dataset=dataset,
        columns=columns,
        chart=chart,
        picture=picture,
        problem=problem,
        kinds=charts.KINDS,
        aggregates=charts.AGGREGATES,
        periods=charts.PERIODS,
        stackings=charts.STACKINGS,
        args=request.args,
        asked=asked,
        looked=looked,
        view_args=looked.view.args(),
    )
    return page, (400 if problem else 200)


@bp.route("/datasets/<int:dataset_id>/chart.svg")
def dataset_chart_svg(dataset_id: int) -> Response:
    dataset = dataset_or_404(dataset_id)
    columns = columns_of(dataset)
    with rows_of(dataset) as con:
        looked = look(dataset, con, columns, request.args)
        try:
            chart = draw(con, columns, chart_args(request.args), looked.scope)
        except charts.ChartError:
            abort(400)
    name = download_name(f"{dataset.name} {chart.kind}", "svg")
    target = save_target()
    if target is not None:
        return saved(iter([charts.svg(chart).encode()]), target)
    return Response(charts.svg(chart), mimetype="image/svg+xml", headers=attachment(name))
