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
    left, right, top, bottom = 40, 10, 12, 28
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
    for frac in (0, 0.5, 1):
        value = round(peak * frac)
        y = top + plot_h - (value / peak) * plot_h
        parts.append(
            f'<line x1="{left}" y1="{y:.1f}" x2="{width - right}" y2="{y:.1f}" '
            'stroke="#eef1f5"/>'
            f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end" font-size="11" '
            f'fill="#5b6475">{value}</text>'
        )
    parts.append(f'<polygon points="{area}" fill="#1f6fb2" fill-opacity="0.15"/>')
    parts.append(f'<polyline points="{line}" fill="none" stroke="#1f6fb2" stroke-width="2"/>')
    for (x, y), (day, value) in zip(coords, points, strict=True):
        parts.append(
            f'<circle cx="{x:.1f}" cy="{y:.1f}" r="2.5" fill="#1f6fb2">'
            f"<title>{escape(day.isoformat())}: {value} waiting</title></circle>"
        )
    first, last = points[0][0], points[-1][0]
    parts.append(
        f'<text x="{left}" y="{height - 8}" font-size="11" fill="#5b6475">'
        f"{escape(first.strftime('%b %d'))}</text>"
        f'<text x="{width - right}" y="{height - 8}" font-size="11" fill="#5b6475" '
        f'text-anchor="end">{escape(last.strftime("%b %d"))}</text>'
    )
    parts.append("</svg>")
    return Markup("".join(parts))


def bar_chart(
    rows: list[tuple[str, float, str]],
    max_value: float | None = None,
    width: int = 560,
    row_h: int = 26,
    color: str = "#1f6fb2",
) -> Markup:
    """Horizontal bars: (label, value, text shown after the bar)."""
    if not rows:
        return Markup("")
    label_w, text_w = 190, 120
    bar_w = width - label_w - text_w
    peak = max_value if max_value else max((v for _, v, _ in rows), default=0) or 1
    height = row_h * len(rows) + 4
    parts = [
        f'<svg class="chart" viewBox="0 0 {width} {height}" role="img" '
        f'aria-label="{escape(", ".join(f"{lab}: {txt}" for lab, _, txt in rows))}">'
    ]
    for i, (label, value, text) in enumerate(rows):
        y = i * row_h + 4
        w = max(0.0, min(1.0, float(value) / float(peak))) * bar_w
        parts.append(
            f'<text x="{label_w - 8}" y="{y + row_h / 2 + 2:.1f}" text-anchor="end" '
            f'font-size="13" fill="#1d2433">{escape(label)}</text>'
            f'<rect x="{label_w}" y="{y + 3}" width="{bar_w}" height="{row_h - 10}" rx="3" '
            'fill="#e8eef6"/>'
            f'<rect x="{label_w}" y="{y + 3}" width="{w:.1f}" height="{row_h - 10}" rx="3" '
            f'fill="{escape(color)}"/>'
            f'<text x="{label_w + bar_w + 8}" y="{y + row_h / 2 + 2:.1f}" font-size="13" '
            f'fill="#1d2433">{escape(text)}</text>'
        )
    parts.append("</svg>")
    return Markup("".join(parts))


def bar_rows(rows: list[tuple[str, int, object]]) -> Markup:
    """Approved courses per category: bar length = courses, text = courses and hours."""
    from catalog.templating import format_hours

    return bar_chart(
        [
            (name, n, f"{n} courses" + (f" · {format_hours(hours)} h" if hours is not None else ""))
            for name, n, hours in rows
        ]
    )


def percent_bars(rows: list[tuple[str, float | None, str]]) -> Markup:
    return bar_chart(
        [(label, (value or 0) * 100, text) for label, value, text in rows],
        max_value=100,
        color="#1d7a46",
    )
