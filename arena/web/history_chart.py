"""A model's rating over time, drawn server-side: a line through the daily ratings on its band
of 95% intervals, one point a day."""

from __future__ import annotations

from collections.abc import Sequence

from markupsafe import Markup, escape

from arena.votes.history import Point
from arena.web.charts import _nice_step
from arena.web.i18n import _, ngettext

W, H, LEFT, RIGHT, TOP, BOTTOM = 600, 240, 44, 12, 12, 34


def history_chart(points: Sequence[Point]) -> Markup:
    """The rating line with its interval band; empty when there is no day to draw."""
    if not points:
        return Markup("")
    lo = min(p.ci_lower for p in points)
    hi = max(p.ci_upper for p in points)
    pad = max((hi - lo) * 0.08, 5.0)
    lo, hi = lo - pad, hi + pad
    n = len(points)

    def x(i: int) -> float:
        inner = W - LEFT - RIGHT
        return LEFT + (inner / 2 if n == 1 else inner * i / (n - 1))

    def y(v: float) -> float:
        return TOP + (hi - v) / (hi - lo) * (H - TOP - BOTTOM)

    label = escape(_("Rating over time with 95%% intervals") % {})
    parts = [
        f'<svg class="chart history" width="{W}" height="{H}" viewBox="0 0 {W} {H}" '
        f'role="img" aria-label="{label}">'
    ]
    step = _nice_step((hi - lo) / 5)
    tick = (lo // step + 1) * step
    while tick < hi:
        parts.append(
            f'<line class="grid" x1="{LEFT}" x2="{W - RIGHT}" y1="{y(tick):.1f}" '
            f'y2="{y(tick):.1f}"/><text class="tick ytick" x="{LEFT - 4}" '
            f'y="{y(tick) + 4:.1f}">{tick:.0f}</text>'
        )
        tick += step
    band = [f"{x(i):.1f},{y(p.ci_upper):.1f}" for i, p in enumerate(points)]
    band += [f"{x(i):.1f},{y(p.ci_lower):.1f}" for i, p in reversed(list(enumerate(points)))]
    if n > 1:
        parts.append(f'<polygon class="band" points="{" ".join(band)}"/>')
        line = " ".join(f"{x(i):.1f},{y(p.rating):.1f}" for i, p in enumerate(points))
        parts.append(f'<polyline class="line" points="{line}"/>')
    for i, p in enumerate(points):
        tip = escape(
            ngettext(
                "%(day)s: %(rating).0f (95%% %(lo).0f to %(hi).0f), rank %(rank)s, %(num)d battle",
                "%(day)s: %(rating).0f (95%% %(lo).0f to %(hi).0f), rank %(rank)s, %(num)d battles",
                p.battles,
            )
            % {
                "day": p.day,
                "rating": p.rating,
                "lo": p.ci_lower,
                "hi": p.ci_upper,
                "rank": p.rank,
                "num": p.battles,
            }
            + (_(", preliminary") if p.preliminary else "")
        )
        parts.append(
            f'<g class="day{" prelim" if p.preliminary else ""}"><title>{tip}</title>'
            f'<line class="ci" x1="{x(i):.1f}" x2="{x(i):.1f}" y1="{y(p.ci_lower):.1f}" '
            f'y2="{y(p.ci_upper):.1f}"/>'
            f'<circle class="dot" cx="{x(i):.1f}" cy="{y(p.rating):.1f}" r="3.5"/></g>'
        )
    # Dates under the first and last points (and the middle one when there are many).
    marks = sorted({0, n - 1} | ({(n - 1) // 2} if n > 4 else set()))
    for i in marks:
        anchor = "start" if i == 0 and n > 1 else ("end" if i == n - 1 and n > 1 else "middle")
        parts.append(
            f'<text class="tick x-{anchor}" x="{x(i):.1f}" '
            f'y="{H - 12}">{escape(points[i].day)}</text>'
        )
    parts.append("</svg>")
    return Markup("".join(parts))
