"""Rating against cost or speed, drawn on the server: the models no other model beats on both.

Each model is a dot at (cost per 1,000 battles, or median time to first token; rating) with its
95% interval as a vertical bar. A model is on the frontier (Pareto-optimal) when no other model
is at least as good on both axes and better on one: those dots are filled and joined by a step
line, the others hollow. The picture is 360 units wide so that on a 375 px phone it is drawn at
about its own size, text legible.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from markupsafe import Markup, escape

from arena.web.i18n import _
from arena.web.money import format_money

W, H = 360, 300
LEFT, RIGHT, TOP, BOTTOM = 52, 14, 14, 46
CHAR_W = 6.2  # about how wide a character of an 11 px label is


def pareto(points: Sequence[tuple[float, float]]) -> list[bool]:
    """For (x, y) points where less x and more y are better: whether each is on the frontier."""
    out = []
    for i, (xi, yi) in enumerate(points):
        out.append(
            not any(
                xj <= xi and yj >= yi and (xj < xi or yj > yi)
                for j, (xj, yj) in enumerate(points)
                if j != i
            )
        )
    return out


def _ticks(lo: float, hi: float, log: bool) -> list[float]:
    if log:
        first, last = math.floor(math.log10(lo)), math.ceil(math.log10(hi))
        decades = [10.0**k for k in range(first, last + 1)]
        if len(decades) <= 3:  # a narrow range: 1, 2, 5 steps too
            decades = [d * f for d in decades for f in (1, 2, 5)]
        return [t for t in decades if lo <= t <= hi]
    raw = (hi - lo) / 4
    mag = 10.0 ** math.floor(math.log10(raw)) if raw > 0 else 1.0
    step = next(f * mag for f in (1, 2, 2.5, 5, 10) if f * mag >= raw)
    t = math.ceil(lo / step) * step
    out = []
    while t <= hi + 1e-9:
        out.append(t)
        t += step
    return out


def frontier_chart(
    models: Sequence[dict[str, Any]], *, x_key: str, x_label: str, currency: str = "USD"
) -> Markup:
    """Rating (with its interval) against `x_key` (`cost_per_1k_battles` or `ttft_p50_ms`)."""
    rows = [
        m
        for m in models
        if m.get("rating") is not None and m.get(x_key) is not None and m[x_key] > 0
    ]
    if not rows:
        return Markup("")
    xs = [float(m[x_key]) for m in rows]
    on = pareto([(x, float(m["rating"])) for x, m in zip(xs, rows, strict=True)])
    x_lo, x_hi = min(xs), max(xs)
    log = x_hi / x_lo > 20
    if log:
        x_lo, x_hi = x_lo / 1.6, x_hi * 1.6
    else:
        pad = (x_hi - x_lo) * 0.08 or x_hi * 0.2
        x_lo, x_hi = max(0.0, x_lo - pad), x_hi + pad
    y_lo = min(float(m["ci_lower"]) for m in rows)
    y_hi = max(float(m["ci_upper"]) for m in rows)
    y_pad = max((y_hi - y_lo) * 0.06, 5.0)
    y_lo, y_hi = y_lo - y_pad, y_hi + y_pad

    def px(v: float) -> float:
        if log:
            t = (math.log10(v) - math.log10(x_lo)) / (math.log10(x_hi) - math.log10(x_lo))
        else:
            t = (v - x_lo) / (x_hi - x_lo)
        return LEFT + t * (W - LEFT - RIGHT)

    def py(v: float) -> float:
        return TOP + (y_hi - v) / (y_hi - y_lo) * (H - TOP - BOTTOM)

    def x_text(v: float) -> str:
        if x_key == "ttft_p50_ms":
            return f"{v / 1000:g} s" if v >= 100 else f"{v:g} ms"
        return format_money(v, currency)

    kind = "cost" if x_key == "cost_per_1k_battles" else "speed"
    # Translated outside the f-strings, where Babel's extraction would not see them.
    aria = escape(_("Rating against %(what)s") % {"what": x_label})
    x_axis = escape(x_label + (_(" (log scale)") if log else ""))
    y_axis = escape(_("rating"))
    parts = [
        f'<svg class="chart frontier {kind}" width="{W}" height="{H}" viewBox="0 0 {W} {H}" '
        f'role="img" aria-label="{aria}">'
    ]
    bottom = H - BOTTOM
    for t in _ticks(x_lo, x_hi, log):
        text = x_text(t)
        # A label centred on a tick near an edge would stick out of the picture: kept inside.
        half = len(text) * CHAR_W / 2
        lx = min(max(px(t), half + 2), W - half - 2)
        parts.append(
            f'<line class="grid" x1="{px(t):.1f}" x2="{px(t):.1f}" y1="{TOP}" y2="{bottom}"/>'
            f'<text class="tick" x="{lx:.1f}" y="{bottom + 14}">{escape(text)}</text>'
        )
    for t in _ticks(y_lo, y_hi, False):
        parts.append(
            f'<line class="grid" x1="{LEFT}" x2="{W - RIGHT}" y1="{py(t):.1f}" y2="{py(t):.1f}"/>'
            f'<text class="ytick" x="{LEFT - 4}" y="{py(t) + 4:.1f}">{t:.0f}</text>'
        )
    parts.append(
        f'<text class="axis" x="{(LEFT + W - RIGHT) / 2:.0f}" y="{H - 8}">'
        f"{x_axis} →</text>"
        f'<text class="axis" transform="translate(11,{(TOP + bottom) / 2:.0f}) rotate(-90)">'
        f"{y_axis} ↑</text>"
    )
    best = sorted((x, float(m["rating"])) for x, m, o in zip(xs, rows, on, strict=True) if o)
    if len(best) > 1:
        # The frontier as steps: from each frontier model right to the next, then up.
        path = f"M{px(best[0][0]):.1f},{py(best[0][1]):.1f}"
        for x, y in best[1:]:
            path += f" H{px(x):.1f} V{py(y):.1f}"
        parts.append(f'<path class="frontier-line" d="{path}"/>')
    placed: list[tuple[float, float, float, float]] = []
    order = sorted(range(len(rows)), key=lambda i: (not on[i], -float(rows[i]["rating"])))
    for i in order:
        m, x, o = rows[i], xs[i], on[i]
        cx, cy = px(x), py(float(m["rating"]))
        title = escape(
            _("%(model)s: rating %(rating).0f (95%% %(lo).0f to %(hi).0f), %(what)s %(x)s")
            % {
                "model": m["model"],
                "rating": m["rating"],
                "lo": m["ci_lower"],
                "hi": m["ci_upper"],
                "what": x_label,
                "x": x_text(x),
            }
            + (_(" — on the frontier") if o else "")
        )
        parts.append(
            f'<g class="pt{" best" if o else ""}"><title>{title}</title>'
            f'<line class="ci" x1="{cx:.1f}" x2="{cx:.1f}" y1="{py(m["ci_upper"]):.1f}" '
            f'y2="{py(m["ci_lower"]):.1f}"/>'
            f'<circle class="dot" cx="{cx:.1f}" cy="{cy:.1f}" r="{4.5 if o else 3.5}"/>'
        )
        label = _short(str(m["model"]))
        spot = _place(cx, cy, len(label) * CHAR_W, placed)
        if spot is not None:
            lx, ly, anchor = spot
            parts.append(
                f'<text class="plabel" x="{lx:.1f}" y="{ly:.1f}" text-anchor="{anchor}">'
                f"{escape(label)}</text>"
            )
        parts.append("</g>")
    parts.append("</svg>")
    return Markup("".join(parts))


def _short(name: str, limit: int = 18) -> str:
    return name if len(name) <= limit else name[: limit - 1] + "…"


def _place(
    cx: float, cy: float, width: float, placed: list[tuple[float, float, float, float]]
) -> tuple[float, float, str] | None:
    """Where a label fits beside its dot without covering another label (None: nowhere)."""
    for dx, dy, anchor in ((7, 4, "start"), (-7, 4, "end"), (0, -9, "middle"), (0, 15, "middle")):
        x0 = cx + dx if anchor == "start" else cx + dx - (width if anchor == "end" else width / 2)
        box = (x0, cy + dy - 10, x0 + width, cy + dy + 2)
        if box[0] < 2 or box[2] > W - 2 or box[1] < 0 or box[3] > H - BOTTOM + 2:
            continue
        if any(
            not (b[2] < box[0] or b[0] > box[2] or b[3] < box[1] or b[1] > box[3]) for b in placed
        ):
            continue
        placed.append(box)
        return cx + dx, cy + dy, anchor
    return None


def _overlap(a: tuple[float, ...], b: tuple[float, ...]) -> bool:
    return not (a[2] < b[0] or a[0] > b[2] or a[3] < b[1] or a[1] > b[3])


def frontier_context(models: Sequence[dict[str, Any]], currency: str) -> dict[str, Any]:
    """What the leaderboard page needs for its two frontier pictures."""
    return {
        "cost_svg": frontier_chart(
            models,
            x_key="cost_per_1k_battles",
            x_label=_("cost per 1,000 battles"),
            currency=currency,
        ),
        "ttft_svg": frontier_chart(
            models, x_key="ttft_p50_ms", x_label=_("median time to first token")
        ),
        "unpriced": [m["model"] for m in models if m.get("cost_per_1k_battles") is None],
        "untimed": [m["model"] for m in models if m.get("ttft_p50_ms") is None],
    }
