"""Charts drawn on the server as inline SVG (issue #24 item 1): nothing loaded from a third party,
no script, and the page's CSP stays as strict as any other. Each chart is an image with a name
(`role="img"`, `aria-labelledby`) whose numbers are in a table beside it, so a screen reader
user reads the table and the chart adds nothing they miss."""
from collections.abc import Callable, Sequence

from markupsafe import Markup, escape

WIDTH, HEIGHT = 640, 220
LEFT, RIGHT, TOP, BOTTOM = 8, 8, 22, 26


def bar_chart(points: Sequence[tuple[str, int]], *, chart_id: str, title: str,
              value_label: Callable[[int], str], every: int = 1) -> Markup:
    """Bars for (label, value) points, tallest at the top; each bar's label and value as its
    tooltip; an x label under every `every`-th bar counted back from the last (the newest is
    always named, and no two labels crowd); the largest value at the top left as the scale."""
    top = max((value for _, value in points), default=0) or 1
    inner_w, inner_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    slot = inner_w / max(len(points), 1)
    bar = max(slot * 0.72, 1.0)
    parts = [f'<svg class="chart" id="{escape(chart_id)}" viewBox="0 0 {WIDTH} {HEIGHT}" '
             f'role="img" aria-labelledby="{escape(chart_id)}-title" '
             f'preserveAspectRatio="none" xmlns="http://www.w3.org/2000/svg">',
             f'<title id="{escape(chart_id)}-title">{escape(title)}</title>',
             f'<text class="chart-scale" x="{LEFT}" y="14">{escape(value_label(top))}</text>',
             f'<line class="chart-axis" x1="{LEFT}" y1="{TOP + inner_h}" '
             f'x2="{WIDTH - RIGHT}" y2="{TOP + inner_h}"/>']
    last = len(points) - 1
    for i, (label, value) in enumerate(points):
        height = inner_h * value / top
        x = LEFT + i * slot + (slot - bar) / 2
        y = TOP + inner_h - height
        parts.append(f'<rect class="chart-bar" x="{x:.1f}" y="{y:.1f}" width="{bar:.1f}" '
                     f'height="{height:.1f}"><title>{escape(label)}: '
                     f'{escape(value_label(value))}</title></rect>')
        if (last - i) % every == 0:
            anchor = "end" if i == last else ("start" if i == 0 else "middle")
            cx = x + bar if i == last else (x if i == 0 else x + bar / 2)
            parts.append(f'<text class="chart-label" x="{cx:.1f}" y="{HEIGHT - 8}" '
                         f'text-anchor="{anchor}">{escape(label)}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704  (every text above is escaped)
