"""The arena's live leaderboard: votes from the database into `ratings`, cached for every worker.

Page views never refit. A computed leaderboard is stored in the database (LeaderboardCache) with
the votes version it was computed from; every vote bumps that version. Each worker runs a small
refresher that recomputes stale entries that people have asked for, taking a lease so that only
one worker computes a given entry. A view serves the newest stored entry at once.
"""

from __future__ import annotations

import dataclasses
import json
import logging
from datetime import timedelta
from typing import Any

import numpy as np
from numpy.typing import NDArray
from sqlalchemy import Engine
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import col, select

from arena.core.judge_rules import JudgeWeights
from arena.store.engine import begin, session_scope
from arena.store.tables import Endpoint, LeaderboardCache, utcnow
from arena.votes.audit import top_flip_audit
from arena.votes.board_options import LeaderboardOptions, RankingConfig
from arena.votes.cache import CATEGORY_BIT, Snapshot, VoteCache
from arena.votes.category_board import add_rank_overall, snapshot_counts
from arena.votes.combined import with_judges
from arena.votes.history import record_snapshot
from arena.votes.hygiene import HygieneRules, VoteColumns, apply_hygiene
from arena.votes.speed import board_figures, empty_figures
from arena.votes.version import votes_version
from ratings import Battles
from ratings.formats import to_json_dict
from ratings.preliminary import compute_listed

log = logging.getLogger("arena.votes.board")


def load_votes(
    engine: Engine,
    opts: LeaderboardOptions,
    rules: HygieneRules,
    cache: VoteCache | None = None,
    judges: JudgeWeights | None = None,
) -> tuple[Battles, dict[str, int]]:
    """Counted anonymous votes as integer arrays after the hygiene rules, and what they left out.

    With `opts.votes` "judges" or "all" the LLM judges' verdicts replace or join them."""
    battles, left_out, _ = load_votes_with_ids(engine, opts, rules, cache, judges)
    return battles, left_out


def load_votes_with_ids(
    engine: Engine,
    opts: LeaderboardOptions,
    rules: HygieneRules,
    cache: VoteCache | None = None,
    judges: JudgeWeights | None = None,
) -> tuple[Battles, dict[str, int], NDArray[np.int64]]:
    """`load_votes`, and the ids of the votes that entered (for figures over the same battles)."""
    battles, left_out, ids, _ = _load(engine, opts, rules, cache or VoteCache(), judges)
    return battles, left_out, ids


def _load(
    engine: Engine,
    opts: LeaderboardOptions,
    rules: HygieneRules,
    cache: VoteCache,
    judges: JudgeWeights | None,
) -> tuple[Battles, dict[str, int], NDArray[np.int64], Snapshot]:
    """`load_votes_with_ids`, and the snapshot of the votes it read (one read serves a board)."""
    snap = cache.snapshot(engine)
    with engine.connect() as conn:
        names = {
            int(i or 0): str(n)
            for i, n in conn.execute(select(col(Endpoint.id), col(Endpoint.name)))
        }
    v = snap.votes
    # A vote that pits a model against itself cannot be ranked; it must not stop the board.
    valid = v.a != v.b
    mask = valid & (v.outcome >= 0) & (opts.votes != "judges")
    if opts.category:
        mask &= (snap.categories & CATEGORY_BIT.get(opts.category, 0)) != 0
    if snap.vision is not None:
        mask &= snap.vision if opts.modality == "vision" else ~snap.vision
    votes = VoteColumns(
        v.a[mask], v.b[mask], v.outcome[mask], v.voter[mask], v.ip[mask], v.prompt[mask]
    )
    keep, left_out = apply_hygiene(votes, rules)
    if broken := int((~valid).sum()):
        log.warning("%d counted votes pit a model against itself; they are left out", broken)
        left_out["self_paired"] = broken
    ids = np.array(sorted(names), dtype=np.int64)
    kept = snap.ids[mask][keep]
    battles = Battles.from_arrays(
        [names[int(i)] for i in ids],
        _index(ids, votes.a[keep]),
        _index(ids, votes.b[keep]),
        votes.outcome[keep],
        style=cache.style(engine, kept) if opts.style_control else None,
    )
    if opts.votes != "human":
        battles = with_judges(engine, opts, battles, ids, left_out, judges or JudgeWeights())
    return battles, left_out, kept, snap


def _index(ids: NDArray[np.int64], values: NDArray[np.int64]) -> NDArray[np.intp]:
    """`np.searchsorted(ids, values)` over sorted small ids by a table: a million binary
    searches are most of 0.1 s of a refit, a table lookup is a few milliseconds."""
    if not len(ids) or not len(values) or not 0 <= ids[-1] < 10_000_000:
        return np.searchsorted(ids, values)
    if int(values.min()) < 0 or int(values.max()) > int(ids[-1]):
        return np.searchsorted(ids, values)
    table = np.searchsorted(ids, np.arange(int(ids[-1]) + 1))
    return table[values]


def compute_payload(
    engine: Engine,
    opts: LeaderboardOptions,
    config: RankingConfig,
    cache: VoteCache | None = None,
) -> dict[str, Any]:
    """Fit a leaderboard now: the contract's JSON plus what the page draws."""
    cache = cache or VoteCache()  # one read of the votes serves the fit and the counts
    battles, left_out, kept, snap = _load(engine, opts, config.hygiene, cache, config.judges)
    lb = compute_listed(
        battles,
        listing_threshold=config.min_battles,
        ties=opts.ties,
        reweight=opts.reweight,
        ci=opts.ci,
        rounds=config.bootstrap_rounds,
        style_control=opts.style_control,
    )
    lb = dataclasses.replace(lb, category=opts.category)
    data = to_json_dict(lb)
    data["flip_audit"] = top_flip_audit(battles, lb, opts.style_control)
    data["modality"] = opts.modality
    with session_scope(engine) as session:
        endpoints = {e.name: e for e in session.exec(select(Endpoint)).all()}
    figures = board_figures(engine, cache.answers, kept, endpoints.values())
    for m in data["models"]:
        e = endpoints.get(m["model"])
        m["organization"] = e.organization if e else None
        m["status"], m["status_note"] = model_status(e)
        m.update(figures.get(e.id or 0 if e else 0) or empty_figures())
    data["currency"] = config.currency
    data["excluded"] = left_out
    if opts.category:
        overall = overall_board(engine, dataclasses.replace(opts, category=None), config, cache)
        add_rank_overall(data["models"], overall["models"])
    return {
        "leaderboard": data,
        "category_counts": snapshot_counts(snap),
        "matrices": {
            "names": list(lb.names),
            "win_rate": _rounded(lb.win_rate_matrix, 4),
            "predicted": _rounded(lb.predicted_matrix, 4),
            "count": _rounded(lb.count_matrix, 0),
        },
    }


#: Statuses the board shows by default: models that battle here, and models that only come from
#: an imported battle file (a board built from a file has nothing else to show).
LISTED_STATUSES = ("active", "imported")


def model_status(e: Endpoint | None) -> tuple[str, str | None]:
    """A board row's status (active, disabled, retired, imported) and why it is not active."""
    if e is None:
        return "retired", "no endpoint"
    if e.source == "import" and e.retired:
        # Created by an import: it ranks on its battles but has no endpoint to be drawn from.
        return "imported", "imported, no endpoint"
    if e.retired:
        return "retired", "retired"
    return ("active", None) if e.enabled else ("disabled", "disabled")


def _rounded(matrix: Any, digits: int) -> list[list[float | None]]:
    return [
        [None if not np.isfinite(x) else round(float(x), digits) for x in row]
        for row in np.asarray(matrix, dtype=np.float64)
    ]


def store_payload(engine: Engine, key: str, version: int, payload: dict[str, Any]) -> None:
    """Store a computed entry unless a newer one is already there, in one statement.

    An upsert, not read-then-insert: a page view computing a missing entry and a worker's refresher
    may store the same new key at once, and the second insert would fail on the primary key."""
    now = utcnow()
    with begin(engine) as conn:
        insert = sqlite_insert if conn.dialect.name == "sqlite" else postgresql_insert
        stmt = insert(LeaderboardCache).values(
            key=key,
            version=version,
            payload=json.dumps(payload, allow_nan=False),
            computed_at=now,
            last_requested_at=now,
        )
        new = stmt.excluded
        conn.execute(
            stmt.on_conflict_do_update(
                index_elements=[col(LeaderboardCache.key)],
                set_={
                    "version": new.version,
                    "payload": new.payload,
                    "computed_at": new.computed_at,
                    "computing_until": None,
                },
                where=col(LeaderboardCache.version) <= new.version,
            )
        )
        record_snapshot(conn, key, payload, now)


def overall_board(
    engine: Engine, opts: LeaderboardOptions, config: RankingConfig, cache: VoteCache | None
) -> dict[str, Any]:
    """The unfiltered board a category board is compared with: the stored one when current."""
    payload = cached_leaderboard(engine, opts, config, cache)
    if not payload.get("fresh", True):
        with session_scope(engine) as session:
            version = votes_version(session)
        payload = compute_payload(engine, opts, config, cache)
        store_payload(engine, opts.key(), version, payload)
    board: dict[str, Any] = payload["leaderboard"]
    return board


def stored_leaderboard(engine: Engine, opts: LeaderboardOptions) -> dict[str, Any] | None:
    """The newest stored leaderboard for these options (`fresh` says whether it counts every
    vote), or None when it was never computed."""
    key = opts.key()
    with session_scope(engine) as session:
        version = votes_version(session)
        row = session.get(LeaderboardCache, key)
        if row is None:
            return None
        now = utcnow()
        # Tell the refresher this entry is wanted (at most one write a minute per entry).
        if row.version != version and now - row.last_requested_at > timedelta(seconds=60):
            row.last_requested_at = now
            session.add(row)
        payload: dict[str, Any] = json.loads(row.payload)
        payload["fresh"] = row.version == version
        return payload


def compute_and_store(
    engine: Engine,
    opts: LeaderboardOptions,
    config: RankingConfig,
    cache: VoteCache | None = None,
) -> dict[str, Any]:
    """Fit a leaderboard now and store it for every worker."""
    with session_scope(engine) as session:
        version = votes_version(session)
    payload = compute_payload(engine, opts, config, cache)
    store_payload(engine, opts.key(), version, payload)
    payload["fresh"] = True
    return payload


def cached_leaderboard(
    engine: Engine,
    opts: LeaderboardOptions,
    config: RankingConfig,
    cache: VoteCache | None = None,
) -> dict[str, Any]:
    """The newest stored leaderboard for these options (computed now only if there is none)."""
    stored = stored_leaderboard(engine, opts)
    return stored if stored is not None else compute_and_store(engine, opts, config, cache)
