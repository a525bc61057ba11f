"""Bar charts as plain geometry for inline SVG: no script, no style, nothing fetched.

Templates draw the rectangles this module places; each chart also carries its numbers as a
table, so a screen reader (and anyone who prefers figures) gets the same information.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

WIDTH = 640
BAR_GAP = 2


@dataclass(frozen=True)
class Bar:
    label: str
    value: int
    x: float
    y: float
    width: float
    height: float


@dataclass(frozen=True)
class Chart:
    bars: list[Bar]
    width: int
    height: int
    maximum: int


def _nice_max(value: int) -> int:
    """The axis top: 1, 2 or 5 times a power of ten at or above ``value``."""
    if value <= 0:
        return 1
    step = 1
    while True:
        for factor in (1, 2, 5):
            if step * factor >= value:
                return step * factor
        step *= 10


def columns(points: list[tuple[str, int]], *, height: int = 160) -> Chart:
    """Vertical bars, one per point, left to right."""
    top = _nice_max(max((v for _, v in points), default=0))
    width = WIDTH / max(len(points), 1)
    bars = [Bar(label, value, i * width + BAR_GAP / 2, height - value / top * height,
                max(width - BAR_GAP, 1), value / top * height)
            for i, (label, value) in enumerate(points)]
    return Chart(bars, WIDTH, height, top)


def rows(points: list[tuple[str, int]], *, row_height: int = 22) -> Chart:
    """Horizontal bars, one per point, top to bottom; the right 60 % is left for labels."""
    top = _nice_max(max((v for _, v in points), default=0))
    bars = [Bar(label, value, 0, i * row_height + BAR_GAP, value / top * WIDTH * 0.4,
                row_height - 2 * BAR_GAP) for i, (label, value) in enumerate(points)]
    return Chart(bars, WIDTH, max(len(points), 1) * row_height, top)


def daily(rows_by_day: list[dict[str, Any]], start: date, end: date) -> list[tuple[str, int]]:
    """Downloads per day over [start, end], days without downloads included as zeros."""
    counts = {str(r["key"]): int(r["downloads"]) for r in rows_by_day}
    days = (end - start).days + 1
    return [((start + timedelta(days=i)).isoformat(),
             counts.get((start + timedelta(days=i)).isoformat(), 0)) for i in range(days)]
