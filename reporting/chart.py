"""A small bar chart of referrals per month, drawn as inline SVG on the server.

No scripts, fonts or other outside resources: the page works offline.
"""

from __future__ import annotations

import datetime

from django.utils.html import escape

WIDTH = 640
HEIGHT = 200
MAX_MONTHS = 36
_TOP = 16
_BOTTOM = 36
_LEFT = 8


def referrals_chart_svg(counts: list[tuple[datetime.date, int]]) -> str:
    """SVG markup for ``(month, count)`` pairs (the latest MAX_MONTHS); "" when none.

    Months without referrals between the first and the last are drawn as empty
    slots, so the axis is honest about time.
    """
    counts = _every_month(counts)[-MAX_MONTHS:]
    if not counts:
        return ""
    peak = max(n for _, n in counts) or 1
    slot = (WIDTH - 2 * _LEFT) / len(counts)
    bar = max(slot * 0.7, 1)
    plot = HEIGHT - _TOP - _BOTTOM
    first, last = counts[0][0], counts[-1][0]
    summary = f"Referrals per month, {first:%b %Y} to {last:%b %Y}; highest {peak} in a month."
    parts = [
        f'<svg class="chart" role="img" viewBox="0 0 {WIDTH} {HEIGHT}" '
        f'xmlns="http://www.w3.org/2000/svg" aria-label="{escape(summary)}">',
        f"<title>{escape(summary)}</title>",
        f'<line x1="{_LEFT}" y1="{HEIGHT - _BOTTOM}" x2="{WIDTH - _LEFT}" '
        f'y2="{HEIGHT - _BOTTOM}" class="chart-axis"/>',
    ]
    label_every = max(1, len(counts) // 12)
    for i, (month, n) in enumerate(counts):
        height = plot * n / peak
        x = _LEFT + i * slot + (slot - bar) / 2
        y = HEIGHT - _BOTTOM - height
        parts.append(
            f'<rect class="chart-bar" x="{x:.1f}" y="{y:.1f}" width="{bar:.1f}" '
            f'height="{height:.1f}"><title>{month:%b %Y}: {n}</title></rect>'
        )
        if i % label_every == 0:
            parts.append(
                f'<text class="chart-label" x="{x + bar / 2:.1f}" y="{HEIGHT - _BOTTOM + 14}" '
                f'text-anchor="middle">{month:%b}</text>'
            )
            if i == 0 or month.month == 1:
                parts.append(
                    f'<text class="chart-label" x="{x + bar / 2:.1f}" '
                    f'y="{HEIGHT - _BOTTOM + 28}" text-anchor="middle">{month:%Y}</text>'
                )
    parts.append(f'<text class="chart-label" x="{_LEFT}" y="{_TOP - 4}">{peak}</text></svg>')
    return "".join(parts)


def _every_month(counts: list[tuple[datetime.date, int]]) -> list[tuple[datetime.date, int]]:
    if not counts:
        return []
    by_month = {month.replace(day=1): n for month, n in counts}
    month, last = min(by_month), max(by_month)
    result = []
    while month <= last:
        result.append((month, by_month.get(month, 0)))
        month = (month + datetime.timedelta(days=32)).replace(day=1)
    return result
