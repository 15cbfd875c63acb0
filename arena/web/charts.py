"""Server-drawn SVG pictures of a leaderboard: ratings with intervals, and pairwise heatmaps."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from markupsafe import Markup, escape

from arena.web.i18n import _, ngettext

ROW_H, PLOT_W, PAD = 34, 400, 12
#: About how wide a character of an 11 px label is (a little wide, so nothing is cut).
CHAR_W = 6.5


def _label(name: str, limit: int = 26) -> str:
    return name if len(name) <= limit else name[: limit - 1] + "…"


def interval_chart(models: Sequence[dict[str, Any]]) -> Markup:
    """Each model's rating as a dot on its 95% interval, best at the top."""
    rows = [m for m in models if m.get("rating") is not None]
    if not rows:
        return Markup("")
    lo = float(min(m["ci_lower"] for m in rows))
    hi = float(max(m["ci_upper"] for m in rows))
    pad = max((hi - lo) * 0.05, 5.0)
    lo, hi = lo - pad, hi + pad

    # Each name sits above its interval, not beside it: the picture is no wider than its plot,
    # so it shrinks to a phone's width with its text still legible.
    def x(v: float) -> float:
        return PAD + (v - lo) / (hi - lo) * PLOT_W

    height = ROW_H * len(rows) + 30
    width = PLOT_W + 2 * PAD
    parts = [
        f'<svg class="chart intervals" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" '
        f'role="img" aria-label="{escape(_("Ratings with 95%% intervals") % {})}">'
    ]
    step = _nice_step((hi - lo) / 6)
    tick = math.ceil(lo / step) * step
    while tick <= hi:
        parts.append(
            f'<line class="grid" x1="{x(tick):.1f}" x2="{x(tick):.1f}" y1="0" '
            f'y2="{height - 20}"/><text class="tick" x="{x(tick):.1f}" y="{height - 6}">'
            f"{tick:.0f}</text>"
        )
        tick += step
    for i, m in enumerate(rows):
        y = ROW_H * i + 24
        title = escape(
            ngettext(
                "%(model)s: %(rating).1f (95%% %(lo).1f to %(hi).1f), %(n)d battle",
                "%(model)s: %(rating).1f (95%% %(lo).1f to %(hi).1f), %(n)d battles",
                int(m["battles"]),
            )
            % {
                "model": m["model"],
                "rating": m["rating"],
                "lo": m["ci_lower"],
                "hi": m["ci_upper"],
                "n": m["battles"],
            }
        )
        parts.append(
            f'<g class="row{" prelim" if m.get("preliminary") else ""}"><title>{title}</title>'
            f'<text class="label" x="{PAD}" y="{y - 9:.1f}">'
            f"{escape(_label(str(m['model']), 56))}</text>"
            f'<line class="ci" x1="{x(m["ci_lower"]):.1f}" x2="{x(m["ci_upper"]):.1f}" '
            f'y1="{y:.1f}" y2="{y:.1f}"/>'
            f'<circle class="dot" cx="{x(m["rating"]):.1f}" cy="{y:.1f}" r="4"/></g>'
        )
    parts.append("</svg>")
    return Markup("".join(parts))


def _nice_step(raw: float) -> float:
    if raw <= 0 or not math.isfinite(raw):
        return 1.0
    mag = 10.0 ** math.floor(math.log10(raw))
    return float(next(f * mag for f in (1, 2, 2.5, 5, 10) if f * mag >= raw))


#: Heatmaps show at most this many models (the best by rating); beyond it cells are unreadable.
HEATMAP_MAX = 50


def heatmap(
    names: Sequence[str],
    matrix: Sequence[Sequence[float | None]],
    *,
    kind: str,
    counts: Sequence[Sequence[float | None]] | None = None,
) -> Markup:
    """A row-vs-column heatmap: `kind` is "win_rate" (0–1) or "count" (battles).

    Rows and columns come in the order given; only the first HEATMAP_MAX are drawn.
    """
    names = names[:HEATMAP_MAX]
    matrix = [row[:HEATMAP_MAX] for row in matrix[:HEATMAP_MAX]]
    counts = [row[:HEATMAP_MAX] for row in counts[:HEATMAP_MAX]] if counts else None
    n = len(names)
    if n == 0:
        return Markup("")
    cell = 34 if n <= 12 else (22 if n <= 30 else 14)
    # Room for the longest (shortened) name, at about 6.5 px a character at 11 px.
    label = min(150, 16 + int(CHAR_W * max(len(_label(x, 20)) for x in names)))
    size = label + cell * n
    # A column label rises to the right at 60°, so it reaches half its length past its column:
    # the picture is widened until the last (and any long) label fits.
    reach = max(
        label + cell * j + cell / 2 + 4 + 0.5 * CHAR_W * len(_label(name, 20))
        for j, name in enumerate(names)
    )
    width = int(max(size, reach)) + 6
    top = max((v for row in matrix for v in row if v is not None), default=1.0) or 1.0
    what = _("Win rate of row against column") if kind == "win_rate" else _("Battles")
    parts = [
        f'<svg class="chart heatmap {kind}" width="{width}" height="{size + 4}" '
        f'viewBox="0 0 {width} {size + 4}" role="img" aria-label="{escape(what)}">'
    ]
    for i, name in enumerate(names):
        short = escape(_label(name, 20))
        parts.append(
            f'<text class="rlabel" x="{label - 6}" y="{label + cell * i + cell / 2 + 4:.1f}">'
            f"{short}</text>"
            f'<text class="clabel" transform="translate({label + cell * i + cell / 2 + 4:.1f},'
            f'{label - 6}) rotate(-60)">{short}</text>'
        )
    for i, row in enumerate(matrix):
        for j, value in enumerate(row):
            if i == j or value is None:
                continue
            if kind == "win_rate":
                fill = _diverging(value)
                n_ij = counts[i][j] if counts else None
                pair = {"a": names[i], "b": names[j], "p": f"{value:.0%}", "n": f"{n_ij:.0f}"}
                tip = (
                    _("%(a)s vs %(b)s: wins %(p)s of %(n)s battles")
                    if n_ij
                    else _("%(a)s vs %(b)s: wins %(p)s")
                ) % pair
                text = f"{value * 100:.0f}"
            else:
                fill = _sequential(value / top)
                tip = _("%(a)s vs %(b)s: %(n)s battles") % {
                    "a": names[i],
                    "b": names[j],
                    "n": f"{value:.0f}",
                }
                text = f"{value:.0f}"
            x, y = label + cell * j, label + cell * i
            parts.append(
                f'<rect class="cell" x="{x}" y="{y}" width="{cell - 1}" height="{cell - 1}" '
                f'fill="{fill}"><title>{escape(tip)}</title></rect>'
            )
            if cell >= 22:
                parts.append(
                    f'<text class="val" x="{x + cell / 2:.1f}" y="{y + cell / 2 + 4:.1f}">'
                    f"{text}</text>"
                )
    parts.append("</svg>")
    return Markup("".join(parts))


def _diverging(v: float) -> str:
    """Red (loses) through white (even) to blue (wins)."""
    t = max(0.0, min(1.0, v))
    if t < 0.5:
        k = t / 0.5
        r, g, b = 214 + (255 - 214) * k, 96 + (255 - 96) * k, 77 + (255 - 77) * k
    else:
        k = (t - 0.5) / 0.5
        r, g, b = 255 - (255 - 59) * k, 255 - (255 - 111) * k, 255 - (255 - 219) * k
    return f"rgb({r:.0f},{g:.0f},{b:.0f})"


def _sequential(t: float) -> str:
    """White to deep blue."""
    t = max(0.0, min(1.0, t))
    return f"rgb({255 - 200 * t:.0f},{255 - 150 * t:.0f},{255 - 40 * t:.0f})"
