"""Migration 0024 on a database made by the first schema: style lists become numeric columns."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import sqlalchemy as sa

from arena.store.engine import make_engine, migrate, run_alembic
from arena.store.style_columns import STYLE_COLUMNS
from arena.votes.board import load_votes
from arena.votes.board_options import LeaderboardOptions
from arena.votes.hygiene import HygieneRules

STYLES: list[Any] = [
    [10, 1, 2, 3, 20.5, 0, 4, 1],  # integers and a float
    [],  # a vote without style features
    [1, 2, 3, 4, 5, 6, 7, "8"],  # not all numbers: no style at all
    [1, 2, 3],  # too short
]


def _alembic(engine: sa.Engine, action: str, revision: str) -> None:
    run_alembic(engine, action, revision)


def _old_database(url: str) -> sa.Engine:
    """A database at revision 0001 holding two models and one vote per entry of STYLES."""
    engine = make_engine(url)
    _alembic(engine, "upgrade", "0001")
    with engine.begin() as conn:
        for i, name in ((1, "alpha"), (2, "beta")):
            conn.execute(
                sa.text(
                    "INSERT INTO endpoint (id, name, base_url, model, extra_body, weight, enabled,"
                    " aliases, retired, source, consecutive_failures, created_at, updated_at)"
                    " VALUES (:id, :name, 'http://127.0.0.1:9/v1', :name, '{}', 1.0, true, '[]',"
                    " false, 'file', 0, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
                ),
                {"id": i, "name": name},
            )
        for k, style in enumerate(STYLES):
            params = {"id": f"b{k}", "style": json.dumps(style), "w": "model_a"}
            conn.execute(
                sa.text(
                    "INSERT INTO battle (id, voter_id, model_a_id, model_b_id, status, anony,"
                    " created_at, updated_at) VALUES (:id, 'v', 1, 2, 'voted', true,"
                    " CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
                ),
                params,
            )
            conn.execute(
                sa.text(
                    "INSERT INTO vote (battle_id, winner, voter_id, model_a_id, model_b_id, anony,"
                    " leaked, excluded, counted, categories, style, created_at) VALUES (:id, :w,"
                    " 'v', 1, 2, true, false, false, true, '[\"english\"]', :style,"
                    " CURRENT_TIMESTAMP)"
                ),
                params,
            )
    return engine


def _columns(engine: sa.Engine) -> set[str]:
    return {c["name"] for c in sa.inspect(engine).get_columns("vote")}


def test_style_lists_become_numeric_columns(database_url: str) -> None:
    engine = _old_database(database_url)
    try:
        migrate(engine)
        assert "style" not in _columns(engine)
        assert set(STYLE_COLUMNS) <= _columns(engine)
        with engine.connect() as conn:
            rows = conn.execute(
                sa.text(f"SELECT {', '.join(STYLE_COLUMNS)} FROM vote ORDER BY id")
            ).all()
        assert [list(r) for r in rows] == [
            [10.0, 1.0, 2.0, 3.0, 20.5, 0.0, 4.0, 1.0],
            [None] * 8,
            [None] * 8,
            [None] * 8,
        ]
        assert all(isinstance(v, float) for v in rows[0])
        battles, _ = load_votes(
            engine, LeaderboardOptions(style_control=True), HygieneRules(anomalous_voters=False)
        )
        assert battles.style is not None
        assert battles.style[0].ravel().tolist() == [10.0, 1.0, 2.0, 3.0, 20.5, 0.0, 4.0, 1.0]
        assert bool(np.isnan(battles.style[1:]).all())
        # The category tags stay where they were, and still filter the board.
        in_english, _ = load_votes(
            engine, LeaderboardOptions(category="english"), HygieneRules(anomalous_voters=False)
        )
        assert len(in_english) == len(STYLES)
    finally:
        engine.dispose()


def test_downgrade_gives_the_lists_back(database_url: str) -> None:
    engine = _old_database(database_url)
    try:
        migrate(engine)
        _alembic(engine, "downgrade", "0001")
        assert "style" in _columns(engine) and not set(STYLE_COLUMNS) & _columns(engine)
        with engine.connect() as conn:
            styles = [
                s if isinstance(s, list) else json.loads(s)
                for (s,) in conn.execute(sa.text("SELECT style FROM vote ORDER BY id"))
            ]
        assert styles == [[10, 1, 2, 3, 20.5, 0, 4, 1], [], [], []]
    finally:
        engine.dispose()
