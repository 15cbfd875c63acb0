"""How the leaderboard page lays out its rows: groups that are never interleaved, ranks that
count only the rows shown.

Models in disconnected groups of the comparison graph were never compared, so each group gets
a table of its own; preliminary models get theirs below. When a filter hides rows (disabled or
retired models), rank, Rank (UB) and the rank spread are counted again among the rows shown, so
a filtered view ranks within itself without gaps; ``rank_overall`` keeps the board's rank.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from arena.web.i18n import _


@dataclass(frozen=True)
class Group:
    """One table of the page."""

    title: str | None
    rows: list[dict[str, Any]]
    preliminary: bool = False


def rerank(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Copies of listed rows of one group with ranks counted among themselves."""
    out = []
    for m in rows:
        others = [x for x in rows if x is not m]
        out.append(
            {
                **m,
                "rank_overall": m["rank"],
                "rank": 1 + sum(x["rating"] > m["rating"] for x in others),
                "rank_ub": 1 + sum(x["ci_lower"] > m["ci_upper"] for x in others),
                "rank_lb": 1 + sum(x["ci_upper"] > m["ci_lower"] for x in others),
            }
        )
    return out


def replace_among(rows: list[dict[str, Any]], listed: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Preliminary rows placed again among the listed rows shown."""
    out = []
    for m in rows:
        out.append(
            {
                **m,
                "rank_overall": m["rank"],
                "rank": 1 + sum(x["rating"] > m["rating"] for x in listed),
                "rank_ub": 1 + sum(x["ci_lower"] > m["ci_upper"] for x in listed),
                "rank_lb": 1 + sum(x["ci_upper"] > m["ci_lower"] for x in listed),
            }
        )
    return out


def group_rows(models: list[dict[str, Any]], *, filtered: bool) -> list[Group]:
    """The tables of the page, in board order: each connected group, then preliminary models."""
    rated = [m for m in models if m.get("rating") is not None]
    listed = [m for m in rated if not m.get("preliminary")]
    prelim = [m for m in rated if m.get("preliminary")]
    components = sorted({int(m.get("component") or 0) for m in listed})
    groups = []
    for c in components:
        rows = [m for m in listed if int(m.get("component") or 0) == c]
        rows = rerank(rows) if filtered else rows
        title = (
            None
            if len(components) == 1
            else _("Group %(n)s (never compared with the others)") % {"n": c + 1}
        )
        groups.append(Group(title, rows))
    if prelim and not groups:
        # Nothing is listed yet (a young arena): one plain table, each row badged preliminary.
        groups.append(Group(None, rerank(prelim) if filtered else prelim))
    elif prelim:
        rows = replace_among(prelim, groups[0].rows) if filtered else prelim
        groups.append(Group(_("Preliminary"), rows, preliminary=True))
    return groups
