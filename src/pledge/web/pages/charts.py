"""Charts drawn on the server as inline SVG: no script, nothing fetched, readable without colour
(each series has a pattern of its own and the figures are also given as a table)."""

from __future__ import annotations

from collections.abc import Sequence

from markupsafe import Markup, escape

from pledge.staff.figures import WeeklyConsent

WIDTH = 640
HEIGHT = 220
_LEFT, _RIGHT, _TOP, _BOTTOM = 40, 10, 10, 40
SERIES = (("granted", "bar-granted"), ("withdrawn", "bar-withdrawn"), ("refused", "bar-refused"))


def weekly_bars(weeks: Sequence[WeeklyConsent], *, title: str) -> Markup:
    """Stacked bars, one per week: granted, withdrawn, refused decisions.

    Args:
        weeks: the figures, oldest week first.
        title: what the chart shows (its accessible name).

    Returns:
        An ``<svg>`` element.
    """
    totals = [week.granted + week.withdrawn + week.refused for week in weeks]
    top = max([*totals, 1])
    step = _nice_step(top)
    ceiling = step * -(-top // step)
    plot_width = WIDTH - _LEFT - _RIGHT
    plot_height = HEIGHT - _TOP - _BOTTOM
    slot = plot_width / max(len(weeks), 1)
    bar = slot * 0.7
    parts = [
        f'<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img"'
        f' aria-label="{escape(title)}" xmlns="http://www.w3.org/2000/svg">',
        f"<title>{escape(title)}</title>",
    ]
    for tick in range(0, ceiling + 1, step):
        y = _TOP + plot_height - plot_height * tick / ceiling
        parts.append(
            f'<line class="grid" x1="{_LEFT}" x2="{WIDTH - _RIGHT}" y1="{y:.1f}" y2="{y:.1f}"/>'
            f'<text class="tick" x="{_LEFT - 6}" y="{y + 4:.1f}" text-anchor="end">{tick}</text>'
        )
    for index, week in enumerate(weeks):
        x = _LEFT + index * slot + (slot - bar) / 2
        base = _TOP + plot_height
        for name, css in SERIES:
            value = getattr(week, name)
            if not value:
                continue
            height = plot_height * value / ceiling
            base -= height
            parts.append(
                f'<rect class="{css}" x="{x:.1f}" y="{base:.1f}" width="{bar:.1f}"'
                f' height="{height:.1f}"><title>{week.week:%d %b}: {value} {name}</title></rect>'
            )
        if index % 2 == 0 or len(weeks) <= 8:
            parts.append(
                f'<text class="tick" x="{x + bar / 2:.1f}" y="{HEIGHT - _BOTTOM + 16}"'
                f' text-anchor="middle">{week.week:%d %b}</text>'
            )
    parts.append("</svg>")
    return Markup("".join(parts))


def _nice_step(top: int) -> int:
    for step in (1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10_000):
        if top / step <= 5:
            return step
    return int(10 ** len(str(top)))


__all__ = ["weekly_bars"]
