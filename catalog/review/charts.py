"""Small server-rendered SVG charts (no JavaScript, no inline styles: CSP-safe).

Every text that reaches the SVG goes through markupsafe.escape.
"""

from __future__ import annotations

import datetime as dt

from markupsafe import Markup, escape


def line_chart(
    points: list[tuple[dt.date, int]], width: int = 720, height: int = 220, label: str = ""
) -> Markup:
    """An area/line chart of counts per day with a y scale and first/last day labels."""
    if not points:
        return Markup("")
    left, right, top, bottom = 10, 10, 12, 10
    plot_w, plot_h = width - left - right, height - top - bottom
    peak = max(max(v for _, v in points), 1)
    step = plot_w / max(len(points) - 1, 1)

    def xy(i: int, v: int) -> tuple[float, float]:
        return left + i * step, top + plot_h - (v / peak) * plot_h

    coords = [xy(i, v) for i, (_, v) in enumerate(points)]
    line = " ".join(f"{x:.1f},{y:.1f}" for x, y in coords)
    area = f"{left:.1f},{top + plot_h:.1f} {line} {coords[-1][0]:.1f},{top + plot_h:.1f}"
    parts = [
        f'<svg class="chart" viewBox="0 0 {width} {height}" role="img" '
        f'aria-label="{escape(label or "Courses waiting per day")}">',
        f'<line x1="{left}" y1="{top + plot_h}" x2="{width - right}" y2="{top + plot_h}" '
        'stroke="#d9dee7"/>',
    ]
    for frac in (0.5, 1):
        y = top + plot_h - frac * plot_h
        parts.append(
            f'<line x1="{left}" y1="{y:.1f}" x2="{width - right}" y2="{y:.1f}" stroke="#eef1f5"/>'
        )
    parts.append(f'<polygon points="{area}" fill="#1f6fb2" fill-opacity="0.15"/>')
    parts.append(f'<polyline points="{line}" fill="none" stroke="#1f6fb2" stroke-width="2"/>')
    parts += _dots(coords, points)
    parts.append("</svg>")
    parts.append(_axis(points, peak))
    return Markup("".join(parts))


def _dots(coords: list[tuple[float, float]], points: list[tuple[dt.date, int]]) -> list[str]:
    """A dot per day, its day and count as the tooltip."""
    return [
        f'<circle cx="{x:.1f}" cy="{y:.1f}" r="2.5" fill="#1f6fb2">'
        f"<title>{escape(day.isoformat())}: {value} waiting</title></circle>"
        for (x, y), (day, value) in zip(coords, points, strict=True)
    ]


def _axis(points: list[tuple[dt.date, int]], peak: int) -> str:
    """Axis labels as HTML under the chart (an SVG's text shrinks with it on a phone)."""
    first, last = points[0][0], points[-1][0]
    return (
        '<p class="chart-axis"><span>'
        f"{escape(first.strftime('%b %d'))}</span><span>top line: {peak} waiting</span>"
        f"<span>{escape(last.strftime('%b %d'))}</span></p>"
    )


def bar_chart(
    rows: list[tuple[str, float, str]],
    max_value: float | None = None,
    color: str = "#1f6fb2",
) -> Markup:
    """Horizontal bars: (label, value, text shown after the bar). Label and text are HTML, so
    they wrap and keep their size on a phone; only the bar itself is a (stretched) SVG."""
    if not rows:
        return Markup("")
    peak = max_value if max_value else max((v for _, v, _ in rows), default=0) or 1
    parts = ['<ul class="bars">']
    for label, value, text in rows:
        w = max(0.0, min(1.0, float(value) / float(peak))) * 100
        parts.append(
            f'<li><span class="bar-label">{escape(label)}</span>'
            '<svg class="bar-svg" viewBox="0 0 100 10" preserveAspectRatio="none" '
            'aria-hidden="true" focusable="false">'
            '<rect width="100" height="10" rx="1.5" fill="#e8eef6"/>'
            f'<rect width="{w:.1f}" height="10" rx="1.5" fill="{escape(color)}"/></svg>'
            f'<span class="bar-text">{escape(text)}</span></li>'
        )
    parts.append("</ul>")
    return Markup("".join(parts))


def bar_rows(rows: list[tuple[str, int, object]]) -> Markup:
    """Approved courses per category: bar length = courses, text = courses and hours."""
    from catalog.models.types import format_hours

    return bar_chart(
        [
            (name, n, f"{n} courses" + (f" · {format_hours(hours)} h" if hours is not None else ""))
            for name, n, hours in rows
        ]
    )


def percent_bars(rows: list[tuple[str, float | None, str]]) -> Markup:
    """A bar chart of shares (0..1) drawn as percentages."""
    return bar_chart(
        [(label, (value or 0) * 100, text) for label, value, text in rows],
        max_value=100,
        color="#1d7a46",
    )
