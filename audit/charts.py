"""Bar charts as inline SVG, computed on the server (no script, no CDN)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

WIDTH = 600
HEIGHT = 140
TOP = 14  # room for the maximum's label
BOTTOM = 18  # room for day labels


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    label: str
    value: int


def bar_chart(title: str, points: list[tuple[Any, int]], color: str) -> dict[str, Any]:
    """`points` = [(day, count)]; returns what templates/audit/chart.html draws."""
    peak = max((value for _, value in points), default=0)
    slot = WIDTH / max(len(points), 1)
    usable = HEIGHT - TOP - BOTTOM
    bars = []
    for index, (day, value) in enumerate(points):
        height = (value / peak * usable) if peak else 0
        bars.append(
            Bar(
                x=round(index * slot + 1, 1),
                y=round(HEIGHT - BOTTOM - height, 1),
                width=round(max(slot - 2, 1), 1),
                height=round(height, 1),
                label=day.strftime("%Y-%m-%d"),
                value=value,
            )
        )
    ticks = [bars[i] for i in range(0, len(bars), 7)] if bars else []
    return {
        "title": title,
        "bars": bars,
        "ticks": ticks,
        "peak": peak,
        "total": sum(value for _, value in points),
        "color": color,
        "width": WIDTH,
        "height": HEIGHT,
        "baseline": HEIGHT - BOTTOM,
        "label_y": HEIGHT - 4,
    }
