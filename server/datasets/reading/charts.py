"""Charts drawn as SVG on the server: no JavaScript chart library, nothing from the network.

Each chart is data (labels and values) plus an SVG rendering with a title, axis labels and a
description; the page also shows the numbers in a table, for screen readers and for checking.
"""

from __future__ import annotations

import math
import sqlite3
from dataclasses import dataclass, field
from html import escape

from ..storage import Column, fits
from .profile import HISTOGRAM_BINS
from .scope import EVERY, Scope

WIDTH, HEIGHT = 720, 360
LEFT, RIGHT, TOP, BOTTOM = 70, 20, 40, 90
KINDS = {
    "bar": "Bars",
    "histogram": "Histogram",
    "line": "Line over time",
    "scatter": "Scatter",
}
AGGREGATES = {"count": "Count", "sum": "Sum", "mean": "Mean"}
PERIODS = {"day": "%Y-%m-%d", "month": "%Y-%m", "year": "%Y"}


class ChartError(ValueError):
    """The chart cannot be drawn as asked; the message says why, for a person."""


@dataclass
class Chart:
    title: str
    x_label: str
    y_label: str
    labels: list[str]
    values: list[float]
    kind: str  # bar, histogram, line or scatter
    # Bars split by a second column: (series name, one value per label); ``values`` are then
    # the totals per label.
    series: list[tuple[str, list[float]]] = field(default_factory=list)
    stacked: bool = False
    points: list[tuple[float, float]] = field(default_factory=list)  # a scatter's (x, y)
    note: str = ""  # said under the chart, e.g. that a scatter shows a sample

    def table(self) -> tuple[list[str], list[list[str]]]:
        """The numbers behind the chart: headings and rows, as the page shows them."""
        if self.kind == "scatter":
            return [self.x_label, self.y_label], [[_cell(x), _cell(y)] for x, y in self.points]
        if self.series:
            heads = [self.x_label, *(name for name, _ in self.series), "Total"]
            rows = [
                [label, *(_cell(values[i]) for _, values in self.series), _cell(self.values[i])]
                for i, label in enumerate(self.labels)
            ]
            return heads, rows
        return [self.x_label, self.y_label], [
            [label, _cell(self.values[i])] for i, label in enumerate(self.labels)
        ]


def bar_chart(
    con: sqlite3.Connection, column: Column, limit: int = 15, *, scope: Scope = EVERY
) -> Chart:
    rows = con.execute(
        f"SELECT {column.name}, count(*) AS n FROM rows "
        f"WHERE {scope.sql(f'{column.name} IS NOT NULL')} "
        f"GROUP BY {column.name} ORDER BY n DESC, {column.name} LIMIT ?",
        (*scope.params, limit),
    ).fetchall()
    return Chart(
        f"Most common values of {column.label}",
        column.label,
        "Rows",
        [str(v) for v, _ in rows],
        [n for _, n in rows],
        "bar",
    )


def histogram_chart(con: sqlite3.Connection, column: Column, *, scope: Scope = EVERY) -> Chart:
    from .profile import profile_column

    if column.type not in ("integer", "real", "date", "datetime"):
        raise ChartError(f"{column.label} holds text: choose a number or date column.")
    profile = profile_column(con, column, scope)
    labels = []
    for low, high, _ in profile.histogram:
        if profile.temporal:
            labels.append(_julian_label(low))
        else:
            labels.append(f"{low:.4g} to {high:.4g}")
    return Chart(
        f"Distribution of {column.label} ({HISTOGRAM_BINS} equal ranges)",
        column.label,
        "Rows",
        labels,
        [n for _, _, n in profile.histogram],
        "histogram",
    )


def _julian_label(day: float) -> str:
    from datetime import datetime, timedelta

    return (datetime(2000, 1, 1) + timedelta(days=day - 2451544.5)).strftime("%Y-%m-%d")


def line_chart(
    con: sqlite3.Connection,
    date_column: Column,
    value_column: Column | None,
    aggregate: str,
    period: str,
    *,
    scope: Scope = EVERY,
) -> Chart:
    if date_column.type not in ("date", "datetime"):
        raise ChartError(f"{date_column.label} is not a date column.")
    if aggregate not in AGGREGATES or period not in PERIODS:
        raise ChartError("Choose count, sum or mean, per day, month or year.")
    if aggregate != "count" and (
        value_column is None or value_column.type not in ("integer", "real")
    ):
        raise ChartError("Sum and mean need a number column.")
    d = date_column.name
    measure = (
        "count(*)"
        if aggregate == "count"
        else (f"{'total' if aggregate == 'sum' else 'avg'}({value_column.name})")
    )
    # Values kept as written that do not fit (a date that is not one, text in the number
    # column) are left out: a sum never adds them as zero.
    ok = f"{fits(date_column)} AND {fits(value_column) if value_column else '1'}"
    rows = con.execute(
        f"SELECT strftime('{PERIODS[period]}', {d}) AS bucket, {measure} FROM rows "
        f"WHERE {scope.sql(f'{d} IS NOT NULL AND {ok}')} GROUP BY bucket ORDER BY bucket "
        "LIMIT 2000",
        scope.params,
    ).fetchall()
    what = "Rows" if aggregate == "count" else f"{AGGREGATES[aggregate]} of {value_column.label}"
    return Chart(
        f"{what} per {period}",
        date_column.label,
        what,
        [str(b) for b, _ in rows],
        [float(v or 0) for _, v in rows],
        "line",
    )


def _ticks(top: float) -> list[float]:
    """Round values for about five grid lines from 0 to at least ``top``."""
    if top <= 0:
        return [0.0]
    raw = top / 5
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    return [i * step for i in range(math.ceil(top / step) + 1)]


def _cell(value: float) -> str:
    """A number in the table under a chart (more digits than on the chart's axis)."""
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.6g}"


def _number(value: float) -> str:
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.4g}"


def _open(chart: Chart) -> list[str]:
    return [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" '
        f'width="{WIDTH}" height="{HEIGHT}" role="img" aria-labelledby="chart-title chart-desc" '
        'class="chart" font-family="sans-serif" font-size="12">',
        f'<title id="chart-title">{escape(chart.title)}</title>',
        f'<desc id="chart-desc">{escape(_description(chart))}</desc>',
        f'<rect x="0" y="0" width="{WIDTH}" height="{HEIGHT}" class="chart-bg" fill="#ffffff"/>',
        f'<text x="{LEFT}" y="22" font-size="15" font-weight="bold" class="chart-text" '
        f'fill="#1e2420">{escape(chart.title)}</text>',
    ]


def _axis_labels(chart: Chart) -> list[str]:
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    return [
        f'<text x="{LEFT + plot_w / 2:.1f}" y="{HEIGHT - 6}" text-anchor="middle" '
        f'class="chart-text" fill="#1e2420">{escape(chart.x_label)}</text>',
        f'<text x="16" y="{TOP + plot_h / 2:.1f}" text-anchor="middle" '
        f'transform="rotate(-90 16 {TOP + plot_h / 2:.1f})" class="chart-text" '
        f'fill="#1e2420">{escape(chart.y_label)}</text>',
    ]


def svg(chart: Chart) -> str:
    """The chart as a standalone, accessible SVG document (no scripts, no styles)."""
    if chart.kind == "scatter":
        return _scatter_svg(chart)
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    values = chart.values or [0]
    if chart.series and not chart.stacked:  # side by side: the tallest single bar
        values = [v for _, series in chart.series for v in series] or [0]
    low = min(0.0, min(values))
    top = max(values) if max(values) > 0 else 1.0
    ticks = _ticks(top)
    top = max(ticks[-1], top)

    def y(value: float) -> float:
        return TOP + plot_h - (value - low) / (top - low) * plot_h

    parts = _open(chart)
    for tick in ticks:
        ty = y(tick)
        parts.append(
            f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{ty:.1f}" y2="{ty:.1f}" '
            'stroke="#d6d3c9" class="chart-grid"/>'
        )
        parts.append(
            f'<text x="{LEFT - 6}" y="{ty + 4:.1f}" text-anchor="end" '
            f'class="chart-text" fill="#5b635e">{_number(tick)}</text>'
        )
    count = max(1, len(chart.values))
    slot = plot_w / count
    every = max(1, count // 20)
    if chart.kind == "line" and chart.values:
        points = [(LEFT + slot * (i + 0.5), y(v)) for i, v in enumerate(chart.values)]
        if len(points) > 1:
            parts.append(
                '<polyline points="{}" fill="none" stroke="{}" stroke-width="2" '
                'class="chart-line"/>'.format(
                    " ".join(f"{px:.1f},{py:.1f}" for px, py in points), PALETTE[0]
                )
            )
        # A marker on every point: a single period is a point, never an empty plot.
        for (px, py), label, value in zip(points, chart.labels, chart.values, strict=True):
            parts.append(
                f'<circle cx="{px:.1f}" cy="{py:.1f}" r="4" fill="{PALETTE[0]}" '
                f'class="chart-point"><title>{escape(label)}: {_number(value)}</title></circle>'
            )
    elif chart.series:
        parts.extend(_series_bars(chart, slot, y))
    else:
        for i, value in enumerate(chart.values):
            x = LEFT + slot * i + (1 if chart.kind == "histogram" else slot * 0.15)
            width = slot - (2 if chart.kind == "histogram" else slot * 0.3)
            parts.append(
                f'<rect x="{x:.1f}" y="{y(max(value, 0)):.1f}" width="{max(width, 1):.1f}" '
                f'height="{abs(y(value) - y(0)):.1f}" fill="{PALETTE[0]}" class="chart-bar">'
                f"<title>{escape(chart.labels[i])}: {_number(value)}</title></rect>"
            )
    for i, label in enumerate(chart.labels):
        if i % every:
            continue
        x = LEFT + slot * (i + 0.5)
        shown = label if len(label) <= 14 else label[:13] + "…"
        parts.append(
            f'<text x="{x:.1f}" y="{TOP + plot_h + 14}" text-anchor="end" '
            f'transform="rotate(-40 {x:.1f} {TOP + plot_h + 14})" class="chart-text" '
            f'fill="#5b635e">{escape(shown)}</text>'
        )
    parts.append(
        f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y(0):.1f}" y2="{y(0):.1f}" '
        'stroke="#5b635e" class="chart-axis"/>'
    )
    parts.extend(_axis_labels(chart))
    if chart.series:
        parts.extend(_legend([name for name, _ in chart.series]))
    parts.append("</svg>")
    return "\n".join(parts)


def _description(chart: Chart) -> str:
    if chart.kind == "scatter":
        if not chart.points:
            return "There is no data to show."
        xs, ys = [x for x, _ in chart.points], [y for _, y in chart.points]
        return (
            f"{len(chart.points):,} points; {chart.x_label} from {_number(min(xs))} to "
            f"{_number(max(xs))}, {chart.y_label} from {_number(min(ys))} to {_number(max(ys))}."
        )
    if not chart.values:
        return "There is no data to show."
    high = max(range(len(chart.values)), key=chart.values.__getitem__)
    return (
        f"{len(chart.values)} {'point' if chart.kind == 'line' else 'bar'}"
        f"{'' if len(chart.values) == 1 else 's'}; the highest is "
        f"{chart.labels[high]} with {_number(chart.values[high])}."
    )


# ---------------------------------------------------------------------------------------------
# Bars split by a second column, scatter plots, and the colours they use.

# Okabe-Ito: told apart with the common forms of colour blindness, and readable on a light
# and a dark page (its black and yellow are left out: lost on a dark page, faint on white).
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9")
OTHER_COLOUR = "#999999"  # the series of every other value, and empty ones
OTHER = "Other or empty"
SCATTER_POINTS = 2000
STACKINGS = {"grouped": "Side by side", "stacked": "Stacked"}


def _label(column: Column, value: object) -> str:
    if column.type == "boolean" and value in (0, 1):
        return "yes" if value else "no"
    return str(value)


def split_bar_chart(
    con: sqlite3.Connection,
    column: Column,
    by: Column,
    *,
    stacked: bool = False,
    scope: Scope = EVERY,
    limit: int = 15,
) -> Chart:
    """The most common values of ``column``, each bar split by the values of ``by``: its
    most common ones each in a colour, the rest (and empty cells) together as "Other"."""
    c, b = column.name, by.name
    where_clause = scope.sql(f"{c} IS NOT NULL")
    top = [
        v
        for v, _ in con.execute(
            f"SELECT {c}, count(*) AS n FROM rows WHERE {where_clause} "
            f"GROUP BY {c} ORDER BY n DESC, {c} LIMIT ?",
            (*scope.params, limit),
        )
    ]
    kept = [
        v
        for v, _ in con.execute(
            f"SELECT {b}, count(*) AS n FROM rows WHERE {scope.sql(f'{b} IS NOT NULL')} "
            f"GROUP BY {b} ORDER BY n DESC, {b} LIMIT ?",
            (*scope.params, len(PALETTE)),
        )
    ]
    counts: dict[tuple[object, object], int] = {}
    if top:
        marks = ", ".join("?" * len(top))
        for value, part, n in con.execute(
            f"SELECT {c}, {b}, count(*) FROM rows WHERE {where_clause} AND {c} IN ({marks}) "
            f"GROUP BY {c}, {b}",
            (*scope.params, *top),
        ):
            key = (value, part if part in kept and part is not None else OTHER)
            counts[key] = counts.get(key, 0) + n
    names: list[object] = list(kept)
    if any(part == OTHER for _, part in counts):
        names.append(OTHER)
    series = [
        (
            OTHER if name == OTHER else _label(by, name),
            [float(counts.get((v, name), 0)) for v in top],
        )
        for name in names
    ]
    totals = [float(sum(values[i] for _, values in series)) for i in range(len(top))]
    how = "stacked" if stacked else "side by side"
    return Chart(
        f"Most common values of {column.label}, by {by.label} ({how})",
        column.label,
        "Rows",
        [_label(column, v) for v in top],
        totals,
        "bar",
        series=series,
        stacked=stacked,
    )


def scatter_chart(
    con: sqlite3.Connection,
    x_column: Column,
    y_column: Column,
    *,
    scope: Scope = EVERY,
    limit: int = SCATTER_POINTS,
) -> Chart:
    """Each row as a point (``x_column``, ``y_column``), both numbers. Past ``limit`` rows,
    every n-th row in row order is drawn (an even spread, the same each time) and the chart
    says so."""
    for column in (x_column, y_column):
        if column.type not in ("integer", "real"):
            raise ChartError(f"{column.label} is not a number column: a scatter needs two.")
    x, y = x_column.name, y_column.name
    condition = scope.sql(
        f"{x} IS NOT NULL AND {y} IS NOT NULL AND {fits(x_column)} AND {fits(y_column)}"
    )
    total = con.execute(f"SELECT count(*) FROM rows WHERE {condition}", scope.params).fetchone()[0]
    step = max(1, math.ceil(total / limit))
    points = con.execute(
        f"SELECT x, y FROM (SELECT {x} AS x, {y} AS y, row_number() OVER (ORDER BY rowid) AS n "
        f"FROM rows WHERE {condition}) WHERE (n - 1) % ? = 0 LIMIT ?",
        (*scope.params, step, limit),
    ).fetchall()
    note = (
        f"{len(points):,} of {total:,} rows are drawn (every {step:,}th, in row order)."
        if step > 1
        else ""
    )
    return Chart(
        f"{y_column.label} against {x_column.label}",
        x_column.label,
        y_column.label,
        [],
        [],
        "scatter",
        points=[(float(a), float(b)) for a, b in points],
        note=note,
    )


def _series_bars(chart: Chart, slot: float, y) -> list[str]:
    parts = []
    count = len(chart.series)
    inner = slot * 0.7
    for i, label in enumerate(chart.labels):
        x0 = LEFT + slot * i + slot * 0.15
        base = 0.0
        for s, (name, values) in enumerate(chart.series):
            value = values[i]
            colour = OTHER_COLOUR if name == OTHER else PALETTE[s % len(PALETTE)]
            if chart.stacked:
                x, width, bottom, upper = x0, inner, base, base + value
                base = upper
            else:
                width = inner / count
                x, bottom, upper = x0 + s * width, 0.0, value
            if not value:
                continue
            parts.append(
                f'<rect x="{x:.1f}" y="{y(upper):.1f}" width="{max(width - 1, 1):.1f}" '
                f'height="{abs(y(upper) - y(bottom)):.1f}" fill="{colour}" class="chart-series">'
                f"<title>{escape(label)}, {escape(name)}: {_number(value)}</title></rect>"
            )
    return parts


def _legend(names: list[str]) -> list[str]:
    parts = ['<g class="chart-legend">']
    x = LEFT
    # Each name gets an equal share of the width (about 7 px a character) so all fit in one line.
    fits_chars = max(4, min(16, int((WIDTH - LEFT - RIGHT) / max(1, len(names)) - 24) // 7))
    for s, name in enumerate(names):
        colour = OTHER_COLOUR if name == OTHER else PALETTE[s % len(PALETTE)]
        shown = name if len(name) <= fits_chars else name[: fits_chars - 1] + "…"
        parts.append(
            f'<rect x="{x}" y="{TOP - 12}" width="10" height="10" fill="{colour}"/>'
            f'<text x="{x + 14}" y="{TOP - 3}" class="chart-text" fill="#1e2420">'
            f"{escape(shown)}<title>{escape(name)}</title></text>"
        )
        x += 24 + 7 * len(shown)
    parts.append("</g>")
    return parts


def _range_ticks(low: float, high: float) -> list[float]:
    """Round values for about five grid lines covering ``low`` to ``high``."""
    if high <= low:
        low, high = low - 1, high + 1
    raw = (high - low) / 5
    if not math.isfinite(raw) or raw <= 0:  # beyond what a float spans: just the two ends
        return [low, high]
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    first = math.floor(low / step) * step
    return [first + i * step for i in range(math.ceil((high - first) / step) + 1)]


def _scatter_svg(chart: Chart) -> str:
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    xs = [x for x, _ in chart.points] or [0.0]
    ys = [y for _, y in chart.points] or [0.0]
    x_ticks, y_ticks = _range_ticks(min(xs), max(xs)), _range_ticks(min(ys), max(ys))

    def sx(value: float) -> float:
        return LEFT + (value - x_ticks[0]) / (x_ticks[-1] - x_ticks[0]) * plot_w

    def sy(value: float) -> float:
        return TOP + plot_h - (value - y_ticks[0]) / (y_ticks[-1] - y_ticks[0]) * plot_h

    parts = _open(chart)
    for tick in y_ticks:
        parts.append(
            f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{sy(tick):.1f}" y2="{sy(tick):.1f}" '
            'stroke="#d6d3c9" class="chart-grid"/>'
            f'<text x="{LEFT - 6}" y="{sy(tick) + 4:.1f}" text-anchor="end" class="chart-text" '
            f'fill="#5b635e">{_number(tick)}</text>'
        )
    for tick in x_ticks:
        parts.append(
            f'<line x1="{sx(tick):.1f}" x2="{sx(tick):.1f}" y1="{TOP}" y2="{TOP + plot_h}" '
            'stroke="#d6d3c9" class="chart-grid"/>'
            f'<text x="{sx(tick):.1f}" y="{TOP + plot_h + 16}" text-anchor="middle" '
            f'class="chart-text" fill="#5b635e">{_number(tick)}</text>'
        )
    for x, y in chart.points:
        parts.append(
            f'<circle cx="{sx(x):.1f}" cy="{sy(y):.1f}" r="3" fill="{PALETTE[0]}" '
            f'fill-opacity="0.7" class="chart-point"><title>{_number(x)}, {_number(y)}</title>'
            "</circle>"
        )
    parts.extend(_axis_labels(chart))
    parts.append("</svg>")
    return "\n".join(parts)


MAX_SUMMARY_BARS = 60


def summary_chart(title: str, x_label: str, y_label: str, groups: list[tuple]) -> Chart:
    """A bar per group of a summary, ``groups`` being (label, value) pairs in order; groups
    without a value (an empty group's mean) draw no bar, and at most MAX_SUMMARY_BARS are
    drawn (the page says so)."""
    drawn = [(str(label), float(value)) for label, value in groups if value is not None]
    drawn = drawn[:MAX_SUMMARY_BARS]
    return Chart(
        title=title,
        x_label=x_label,
        y_label=y_label,
        labels=[label for label, _ in drawn],
        values=[v for _, v in drawn],
        kind="bar",
    )
