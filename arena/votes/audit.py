"""The leaderboard's vote-flip audit: how many votes keep #1 above #2 (or any chosen pair)."""

from __future__ import annotations

from typing import Any

import numpy as np

from ratings import Battles, Leaderboard
from ratings.flip import FlipAudit, audit_pair


def listed_battles(battles: Battles, lb: Leaderboard) -> Battles:
    """The battles among the listed (not preliminary) models: the ones the listed board fits."""
    listed = np.zeros(len(battles.names), dtype=bool)
    ids = {n: i for i, n in enumerate(battles.names)}
    for r in lb.models:
        if not r.preliminary:
            listed[ids[r.model]] = True
    return battles.select(np.asarray(listed[battles.model_a] & listed[battles.model_b]))


def as_dict(a: FlipAudit, battles: int) -> dict[str, Any]:
    """The audit as JSON (``battles``: how many votes the audited fit had)."""
    return {
        "battles": battles,
        "top": a.top,
        "other": a.other,
        "gap": round(float(a.gap), 2),
        "votes": a.votes,
        "estimate": a.estimate,
        "refits": a.refits,
        "removed": a.removed,
    }


def flip_audit(battles: Battles, lb: Leaderboard, a: str, b: str) -> dict[str, Any]:
    """The audit of a chosen pair on this board (whichever of the two is rated higher on top)."""
    rows = {r.model: r for r in lb.models}
    for name in (a, b):
        if name not in rows:
            raise ValueError(f"{name!r} is not on this leaderboard")
        if rows[name].preliminary:
            raise ValueError(f"{name!r} is preliminary: audits compare listed models")
    if a == b:
        raise ValueError("choose two different models")
    if rows[a].component != rows[b].component:
        raise ValueError(f"{a!r} and {b!r} are in disconnected groups: they are never compared")
    top, other = (a, b) if rows[a].rating >= rows[b].rating else (b, a)
    if rows[top].rating == rows[other].rating:
        raise ValueError(f"{a!r} and {b!r} are rated alike: there is nothing to swap")
    among = listed_battles(battles, lb)
    audit = audit_pair(among, top, other, ties=lb.ties, reweight=lb.reweighted)
    return as_dict(audit, len(among) if lb.ties == "half" else int((among.outcome < 2).sum()))


def top_flip_audit(battles: Battles, lb: Leaderboard, style_control: bool) -> dict[str, Any] | None:
    """The audit of #1 against #2 of the listed board (None without two listed models).

    The audit refits plain Bradley-Terry; a style-controlled board is another model, so it has
    none."""
    listed = [r for r in lb.models if not r.preliminary and r.component == 0]
    if style_control or len(listed) < 2 or listed[0].rating <= listed[1].rating:
        return None
    return flip_audit(battles, lb, listed[0].model, listed[1].model)
