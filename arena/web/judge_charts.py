"""The confusion matrix of a judge against human votes, drawn on the server as SVG."""

from __future__ import annotations

from collections.abc import Sequence

from markupsafe import Markup, escape

from arena.web.charts import _sequential
from arena.web.i18n import N_, _, ngettext

CLASSES = (N_("a wins"), N_("tie"), N_("b wins"))
CELL, LABEL = 56, 70


def confusion_chart(matrix: Sequence[Sequence[int]], judge: str) -> Markup:
    """Rows: the human vote; columns: the judge's combined verdict; darker = more battles."""
    total = sum(sum(row) for row in matrix)
    if not total:
        return Markup("")
    top = max(max(row) for row in matrix) or 1
    size = LABEL + CELL * 3
    names = [_(c) for c in CLASSES]
    caption = _("%(judge)s: human votes (rows) against the judge (columns)") % {"judge": judge}
    judge_axis, human_axis = escape(_("judge")), escape(_("human"))
    parts = [
        f'<svg class="chart confusion" width="{size + 8}" height="{size + 8}" '
        f'viewBox="0 0 {size + 8} {size + 8}" role="img" '
        f'aria-label="{escape(caption)}">'
        f'<text class="clabel" x="{LABEL + CELL * 1.5}" y="12">{judge_axis} →</text>'
        f'<text class="rlabel" x="4" y="{LABEL - 8}">{human_axis} ↓</text>'
    ]
    for i, name in enumerate(escape(n) for n in names):
        parts.append(
            f'<text class="clabel" x="{LABEL + CELL * i + 6}" y="{LABEL - 8}">{name}</text>'
            f'<text class="rlabel" x="4" y="{LABEL + CELL * i + CELL / 2 + 4}">{name}</text>'
        )
    for i, row in enumerate(matrix):
        for j, n in enumerate(row):
            x, y = LABEL + CELL * j, LABEL + CELL * i
            tip = ngettext(
                "human: %(human)s, judge: %(judge)s: %(num)d battle",
                "human: %(human)s, judge: %(judge)s: %(num)d battles",
                n,
            ) % {"human": names[i], "judge": names[j], "num": n}
            parts.append(
                f'<rect class="cell" x="{x}" y="{y}" width="{CELL - 2}" height="{CELL - 2}" '
                f'fill="{_sequential(n / top)}"><title>{escape(tip)}</title></rect>'
                f'<text class="val" x="{x + CELL / 2 - 1}" y="{y + CELL / 2 + 4}">{n}</text>'
            )
    parts.append("</svg>")
    return Markup("".join(parts))
