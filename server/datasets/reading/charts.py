"""Charts drawn as SVG on the server: no JavaScript chart library, nothing from the network.

Each chart is data (labels and values) plus an SVG rendering with a title, axis labels and a
description; the page also shows the numbers in a table, for screen readers and for checking.
"""

from __future__ import annotations

import math
import sqlite3
from dataclasses import dataclass
from html import escape

from ..storage import Column, fits
from .profile import HISTOGRAM_BINS

WIDTH, HEIGHT = 720, 360
LEFT, RIGHT, TOP, BOTTOM = 70, 20, 40, 90
KINDS = {"bar": "Top values", "histogram": "Histogram", "line": "Over time"}
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
    kind: str  # bar, histogram or line


def bar_chart(con: sqlite3.Connection, column: Column, limit: int = 15) -> Chart:
    rows = con.execute(
        f"SELECT {column.name}, count(*) AS n FROM rows WHERE {column.name} IS NOT NULL "
        f"GROUP BY {column.name} ORDER BY n DESC, {column.name} LIMIT ?",
        (limit,),
    ).fetchall()
    return Chart(
        f"Most common values of {column.label}",
        column.label,
        "Rows",
        [str(v) for v, _ in rows],
        [n for _, n in rows],
        "bar",
    )


def histogram_chart(con: sqlite3.Connection, column: Column) -> Chart:
    from .profile import profile_column

    if column.type not in ("integer", "real", "date", "datetime"):
        raise ChartError(f"{column.label} holds text: choose a number or date column.")
    profile = profile_column(con, column)
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
        f"WHERE {d} IS NOT NULL AND {ok} GROUP BY bucket ORDER BY bucket LIMIT 2000"
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


def _number(value: float) -> str:
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.4g}"


def svg(chart: Chart) -> str:
    """The chart as a standalone, accessible SVG document (no scripts, no styles)."""
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    values = chart.values or [0]
    low = min(0.0, min(values))
    top = max(values) if max(values) > 0 else 1.0
    ticks = _ticks(top)
    top = max(ticks[-1], top)

    def y(value: float) -> float:
        return TOP + plot_h - (value - low) / (top - low) * plot_h

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" '
        f'width="{WIDTH}" height="{HEIGHT}" role="img" aria-labelledby="chart-title chart-desc" '
        'class="chart" font-family="sans-serif" font-size="12">',
        f'<title id="chart-title">{escape(chart.title)}</title>',
        f'<desc id="chart-desc">{escape(_description(chart))}</desc>',
        f'<rect x="0" y="0" width="{WIDTH}" height="{HEIGHT}" class="chart-bg" fill="#ffffff"/>',
        f'<text x="{LEFT}" y="22" font-size="15" font-weight="bold" class="chart-text" '
        f'fill="#1e2420">{escape(chart.title)}</text>',
    ]
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
        points = " ".join(
            f"{LEFT + slot * (i + 0.5):.1f},{y(v):.1f}" for i, v in enumerate(chart.values)
        )
        parts.append(
            f'<polyline points="{points}" fill="none" stroke="#2f6b4f" '
            'stroke-width="2" class="chart-line"/>'
        )
    else:
        for i, value in enumerate(chart.values):
            x = LEFT + slot * i + (1 if chart.kind == "histogram" else slot * 0.15)
            width = slot - (2 if chart.kind == "histogram" else slot * 0.3)
            parts.append(
                f'<rect x="{x:.1f}" y="{y(max(value, 0)):.1f}" width="{max(width, 1):.1f}" '
                f'height="{abs(y(value) - y(0)):.1f}" fill="#2f6b4f" class="chart-bar">'
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
    parts.append(
        f'<text x="{LEFT + plot_w / 2:.1f}" y="{HEIGHT - 6}" text-anchor="middle" '
        f'class="chart-text" fill="#1e2420">{escape(chart.x_label)}</text>'
    )
    parts.append(
        f'<text x="16" y="{TOP + plot_h / 2:.1f}" text-anchor="middle" '
        f'transform="rotate(-90 16 {TOP + plot_h / 2:.1f})" class="chart-text" '
        f'fill="#1e2420">{escape(chart.y_label)}</text>'
    )
    parts.append("</svg>")
    return "\n".join(parts)


def _description(chart: Chart) -> str:
    if not chart.values:
        return "There is no data to show."
    high = max(range(len(chart.values)), key=chart.values.__getitem__)
    return (
        f"{len(chart.values)} {'points' if chart.kind == 'line' else 'bars'}; the highest is "
        f"{chart.labels[high]} with {_number(chart.values[high])}."
    )


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
