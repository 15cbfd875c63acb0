"""How far to trust each judge: its battles and verdicts, position consistency, agreement with
human votes (and Cohen's kappa over win/tie/loss), and the rank correlation of its board with
the human board (`GET /api/judges`, the Judges page).

A judge's two verdicts on a battle become one: the sum of their scores (+1 a, 0 tie, -1 b)
decides, so two verdicts that contradict each other make a tie. A judge's verdicts on battles in
which it is a contestant count nowhere here, and how many there were is reported.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from sqlalchemy import Engine, select
from sqlmodel import col

from arena.judges.verdicts import score
from arena.store.judge_tables import Judgement
from arena.store.tables import Endpoint, Vote
from ratings import Battles, compute_leaderboard
from ratings.agreement import agreement, cohen_kappa, confusion, spearman

HUMAN_SCORE = {"model_a": 1, "model_b": -1, "tie": 0, "tie (bothbad)": 0}


def _sign(x: int) -> int:
    return (x > 0) - (x < 0)


def _ratings(games: list[tuple[str, str, str]]) -> dict[str, float]:
    """Bradley-Terry ratings of (model_a, model_b, winner) games; {} without games."""
    if not games:
        return {}
    lb = compute_leaderboard(Battles.from_records(games), min_battles=0)
    return {str(m.model): float(m.rating) for m in lb.models}


def judge_stats(engine: Engine) -> list[dict[str, Any]]:
    """One entry per judge endpoint (or endpoint that has judged), as `GET /api/judges` lists."""
    with engine.connect() as conn:
        names = {
            int(i or 0): str(n)
            for i, n in conn.execute(select(col(Endpoint.id), col(Endpoint.name)))
        }
        judge_ids = {
            int(i or 0)
            for i in conn.execute(select(col(Endpoint.id)).where(col(Endpoint.judge))).scalars()
        }
        rows = conn.execute(
            select(
                col(Judgement.judge_id),
                col(Judgement.battle_id),
                col(Judgement.model_a_id),
                col(Judgement.model_b_id),
                col(Judgement.swapped),
                col(Judgement.outcome),
                col(Judgement.verdict),
            ).where(col(Judgement.status) == "done", col(Judgement.battle_id).is_not(None))
        ).all()
        human = {
            str(b): (int(a), int(bb), str(w))
            for b, a, bb, w in conn.execute(
                select(
                    col(Vote.battle_id),
                    col(Vote.model_a_id),
                    col(Vote.model_b_id),
                    col(Vote.winner),
                ).where(col(Vote.counted), col(Vote.anony))
            )
        }
    human_board = _ratings([(names[a], names[b], w) for a, b, w in human.values()])
    per_judge: dict[int, list[Any]] = defaultdict(list)
    for r in rows:
        per_judge[int(r[0])].append(r)
        judge_ids.add(int(r[0]))
    return [
        _one(names.get(j, str(j)), per_judge[j], j, names, human, human_board)
        for j in sorted(judge_ids, key=lambda j: names.get(j, ""))
    ]


def _one(
    name: str,
    rows: list[Any],
    judge_id: int,
    names: dict[int, str],
    human: dict[str, tuple[int, int, str]],
    human_board: dict[str, float],
) -> dict[str, Any]:
    own = {r[1] for r in rows if judge_id in (r[2], r[3])}
    rows = [r for r in rows if judge_id not in (r[2], r[3])]
    by_battle: dict[str, dict[bool, str | None]] = defaultdict(dict)
    pairs: dict[str, tuple[int, int]] = {}
    for r in rows:
        by_battle[r[1]][bool(r[4])] = r[5]
        pairs[r[1]] = (int(r[2]), int(r[3]))
    both = {
        b: (v[False], v[True])
        for b, v in by_battle.items()
        if v.get(False) is not None and v.get(True) is not None
    }
    consistent = sum(1 for x, y in both.values() if x == y)
    combined = {b: _sign(score(x) + score(y)) for b, (x, y) in both.items()}
    shared = sorted(b for b in combined if b in human)
    matrix = confusion([HUMAN_SCORE[human[b][2]] for b in shared], [combined[b] for b in shared])
    games = [
        (names[pairs[r[1]][0]], names[pairs[r[1]][1]], str(r[5])) for r in rows if r[5] is not None
    ]
    return {
        "judge": name,
        "battles": len(by_battle),
        "verdicts": sum(1 for r in rows if r[6] is not None),
        "no_verdict": sum(1 for r in rows if r[6] is None),
        "position_consistency": consistent / len(both) if both else 0.0,
        "consistency_battles": len(both),
        "human_agreement": agreement(matrix),
        "kappa": cohen_kappa(matrix),
        "agreement_battles": len(shared),
        "spearman_vs_human": spearman(_ratings(games), human_board),
        "self_judged_battles": len(own),
        # Rows: the human vote (a wins, tie, b wins); columns: the judge's combined verdict.
        "confusion": matrix.tolist(),
    }
