"""Charts drawn on the server as SVG: the same markup serves the review pages and the PDFs.

Text is set in Noto Sans CJK SC, named on the <svg> itself (WeasyPrint does not inherit it into
charts), with the system sans-serif after it for browsers.
"""

from collections.abc import Sequence
from html import escape

from markupsafe import Markup

FONT = "Noto Sans CJK SC, PingFang SC, Microsoft YaHei, sans-serif"
COLOURS = ("#b71c1c", "#1565c0", "#2e7d32", "#ef6c00")


def _svg(width: int, height: int, body: list[str], title: str) -> Markup:
    # Safe: every text in `body` and the title went through escape(); the rest are numbers.
    return Markup(  # noqa: S704
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}" font-family="{FONT}" font-size="12" role="img" '
        f'aria-label="{escape(title)}"><title>{escape(title)}</title>{"".join(body)}</svg>'
    )


def _nice_max(values: Sequence[float]) -> float:
    top = max([*values, 1])
    for step in (
        1,
        2,
        5,
        10,
        20,
        25,
        50,
        100,
        200,
        250,
        500,
        1000,
        2000,
        5000,
        10_000,
        20_000,
        50_000,
    ):
        if top <= step * 5:
            return step * 5
    return top


def bar_chart(
    title: str,
    labels: Sequence[str],
    series: Sequence[tuple[str, Sequence[float]]],
    *,
    width: int = 640,
) -> Markup:
    """Horizontal bars, one group a label (districts read best this way), a legend above."""
    row, gap, left, top = 14 * len(series) + 6, 4, 96, 28
    height = top + len(labels) * (row + gap) + 24
    scale = (width - left - 60) / _nice_max([v for _, values in series for v in values])
    body = _legend(series, left, 14)
    for index, label in enumerate(labels):
        y = top + index * (row + gap)
        body.append(
            f'<text x="{left - 6}" y="{y + row / 2 + 4}" text-anchor="end">{escape(label)}</text>'
        )
        for number, (_, values) in enumerate(series):
            value = values[index]
            bar_y = y + 3 + number * 14
            body.append(
                f'<rect x="{left}" y="{bar_y}" width="{max(value * scale, 0.5):.1f}" '
                f'height="12" fill="{COLOURS[number % len(COLOURS)]}"/>'
            )
            body.append(
                f'<text x="{left + value * scale + 4:.1f}" y="{bar_y + 10}" font-size="10">'
                f"{_number(value)}</text>"
            )
    return _svg(width, height, body, title)


def line_chart(
    title: str,
    labels: Sequence[str],
    series: Sequence[tuple[str, Sequence[float]]],
    *,
    width: int = 640,
    height: int = 240,
) -> Markup:
    """Lines over time (months), with a light grid and every point's value written by it (the
    first series above its points, the others below), so the figures are read, not guessed."""
    left, right, top, bottom = 44, 16, 28, 36
    plot_w, plot_h = width - left - right, height - top - bottom
    peak = _nice_max([v for _, values in series for v in values])
    step_x = plot_w / max(len(labels) - 1, 1)
    body = _legend(series, left, 14)
    for tick in range(6):
        value = peak * tick / 5
        y = top + plot_h - plot_h * tick / 5
        body.append(
            f'<line x1="{left}" x2="{width - right}" y1="{y:.1f}" y2="{y:.1f}" stroke="#e4e7ec"/>'
        )
        body.append(
            f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end" font-size="10">{_number(value)}</text>'
        )
    for index, label in enumerate(labels):
        body.append(
            f'<text x="{left + index * step_x:.1f}" y="{height - 14}" text-anchor="middle" '
            f'font-size="10">{escape(label)}</text>'
        )
    for number, (_, values) in enumerate(series):
        colour = COLOURS[number % len(COLOURS)]
        points = " ".join(
            f"{left + i * step_x:.1f},{top + plot_h - plot_h * v / peak:.1f}"
            for i, v in enumerate(values)
        )
        body.append(f'<polyline points="{points}" fill="none" stroke="{colour}" stroke-width="2"/>')
        for i, value in enumerate(values):
            x, y = left + i * step_x, top + plot_h - plot_h * value / peak
            label_y = y - 6 if number == 0 else y + 14
            body.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="2.5" fill="{colour}"/>')
            body.append(
                f'<text x="{x:.1f}" y="{label_y:.1f}" text-anchor="middle" font-size="10" '
                f'fill="{colour}">{_number(value)}</text>'
            )
    return _svg(width, height, body, title)


def _legend(series: Sequence[tuple[str, Sequence[float]]], x: int, y: int) -> list[str]:
    parts = []
    for number, (name, _) in enumerate(series):
        colour = COLOURS[number % len(COLOURS)]
        parts.append(f'<rect x="{x}" y="{y - 9}" width="10" height="10" fill="{colour}"/>')
        parts.append(f'<text x="{x + 14}" y="{y}">{escape(name)}</text>')
        x += 24 + 13 * len(name)
    return parts


def _number(value: float) -> str:
    return f"{value:.0f}" if float(value).is_integer() else f"{value:.1f}"
