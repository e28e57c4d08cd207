"""The dashboard's charts, drawn on the server as inline SVG.

No chart library and no JavaScript: a chart is a few dozen SVG elements, it
shows with scripts off, prints, and scales with the page (``viewBox`` and
``width: 100%``). Labels are escaped: a domain or a day is the only text here,
but text from the store is never markup.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from html import escape

from markupsafe import Markup

# Small on purpose: the text scales with the chart, and a 480-unit-wide chart keeps
# 13-unit labels readable from a 1280 px screen's half down to a 390 px phone.
WIDTH, HEIGHT = 480, 210
LEFT, RIGHT, TOP, BOTTOM = 46, 12, 26, 28
COLOURS = {"new": "#2f7d32", "lost": "#c62828", "recovered": "#1565c0", "changed": "#8d6e00"}


def _frame(body: str, label: str) -> Markup:
    return Markup(
        f'<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" aria-label="{escape(label)}" '
        f'preserveAspectRatio="xMidYMid meet" xmlns="http://www.w3.org/2000/svg">{body}</svg>'
    )


def _nice_top(value: float) -> float:
    """The y axis's top: four steps of a whole 1, 2 or 5 × 10^n, the first four at or above ``value``."""
    step = 1.0
    while True:
        for m in (1, 2, 5):
            if 4 * m * step >= value:
                return 4 * m * step
        step *= 10


def _y_axis(top: float) -> str:
    parts = []
    for i in range(5):
        value = top * i / 4
        y = HEIGHT - BOTTOM - (HEIGHT - TOP - BOTTOM) * i / 4
        text = f"{value:,.0f}"
        parts.append(
            f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y:.1f}" y2="{y:.1f}" class="grid"/>'
            f'<text x="{LEFT - 6}" y="{y + 4:.1f}" class="tick" text-anchor="end">{text}</text>'
        )
    return "".join(parts)


def _x_labels(days: Sequence[date], xs: Sequence[float]) -> str:
    """At most six dates under the axis, the first and the last always among them."""
    if not days:
        return ""
    picks = sorted({round(i * (len(days) - 1) / 4) for i in range(5)}) if len(days) > 5 else range(len(days))
    return "".join(
        f'<text x="{xs[i]:.1f}" y="{HEIGHT - 8}" class="tick" text-anchor="middle">{days[i]:%b %d}</text>'
        for i in picks
    )


def _x(i: int, n: int) -> float:
    span = WIDTH - LEFT - RIGHT
    return LEFT + span / 2 if n == 1 else LEFT + span * i / (n - 1)


def _y(value: float, top: float) -> float:
    return HEIGHT - BOTTOM - (HEIGHT - TOP - BOTTOM) * value / top


def empty(label: str, message: str) -> Markup:
    return _frame(
        f'<text x="{WIDTH / 2}" y="{HEIGHT / 2}" class="empty" text-anchor="middle">{escape(message)}</text>', label
    )


def line(points: Sequence[tuple[date, int]], label: str) -> Markup:
    """A count per day as a line with a dot on each day: one day is one visible dot."""
    if not points:
        return empty(label, "No referring domains yet")
    top = _nice_top(max(v for _, v in points))
    n = len(points)
    xs = [_x(i, n) for i in range(n)]
    path = " ".join(f"{'M' if i == 0 else 'L'}{xs[i]:.1f},{_y(v, top):.1f}" for i, (_, v) in enumerate(points))
    dots = "".join(
        f'<circle cx="{xs[i]:.1f}" cy="{_y(v, top):.1f}" r="{4 if n <= 31 else 2}" class="dot">'
        f"<title>{d:%Y-%m-%d}: {v:,}</title></circle>"
        for i, (d, v) in enumerate(points)
    )
    body = _y_axis(top) + f'<path d="{path}" class="series"/>' + dots + _x_labels([d for d, _ in points], xs)
    return _frame(body, label)


def paired_bars(days: Sequence[dict], series: Sequence[str], label: str) -> Markup:
    """Per day, one bar per series side by side (new vs lost): ``days`` rows carry ``day`` and each series."""
    if not days:
        return empty(label, "No changes recorded yet")
    top = _nice_top(max(max(row.get(s, 0) for s in series) for row in days))
    n = len(days)
    span = WIDTH - LEFT - RIGHT
    slot = span / n
    bar = max(1.0, min(18.0, slot * 0.8 / len(series)))
    xs = [LEFT + slot * (i + 0.5) for i in range(n)]
    bars = []
    for i, row in enumerate(days):
        for j, name in enumerate(series):
            value = row.get(name, 0)
            x = xs[i] - bar * len(series) / 2 + bar * j
            y = _y(value, top)
            bars.append(
                f'<rect x="{x:.1f}" y="{y:.1f}" width="{bar:.1f}" height="{HEIGHT - BOTTOM - y:.1f}" '
                f'fill="{COLOURS.get(name, "#555")}"><title>{row["day"]:%Y-%m-%d} {name}: {value:,}</title></rect>'
            )
    legend = "".join(
        f'<rect x="{LEFT + 4 + 80 * j}" y="6" width="11" height="11" fill="{COLOURS.get(name, "#555")}"/>'
        f'<text x="{LEFT + 20 + 80 * j}" y="16" class="tick">{escape(name)}</text>'
        for j, name in enumerate(series)
    )
    return _frame(_y_axis(top) + "".join(bars) + legend + _x_labels([r["day"] for r in days], xs), label)


def bars(values: Sequence[tuple[str, int]], label: str) -> Markup:
    """Horizontal bars, one per category, with its count at the end."""
    if not values or not any(v for _, v in values):
        return empty(label, "Nothing to show yet")
    height = 26 * len(values) + 10
    top = max(v for _, v in values)
    inner = WIDTH - 100 - 60
    rows = []
    for i, (name, value) in enumerate(values):
        y = 8 + 26 * i
        w = inner * value / top if top else 0
        rows.append(
            f'<text x="92" y="{y + 14}" class="tick" text-anchor="end">{escape(name)}</text>'
            f'<rect x="100" y="{y}" width="{w:.1f}" height="18" class="bar">'
            f"<title>{escape(name)}: {value:,}</title></rect>"
            f'<text x="{100 + w + 6:.1f}" y="{y + 14}" class="tick">{value:,}</text>'
        )
    return Markup(
        f'<svg class="chart" viewBox="0 0 {WIDTH} {height}" role="img" aria-label="{escape(label)}" '
        f'xmlns="http://www.w3.org/2000/svg">{"".join(rows)}</svg>'
    )
