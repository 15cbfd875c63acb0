"""Re-tagging stored votes (`arena categories retag`), resumable, and the migration that fills
the bit-flag column of an older database from its JSON tags."""

from __future__ import annotations

import json
import time
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from sqlalchemy import update
from sqlmodel import col, select

from arena.cli.main import main
from arena.store.engine import MIGRATIONS, make_engine, migrate, session_scope
from arena.store.tables import Meta, Vote
from arena.votes.category_bits import bits_of, names_of
from arena.votes.retag import checkpoint_key
from arena.web.state import arena_state
from tests.admin_client import play
from tests.conftest import ArenaServer
from tests.fake_openai import FakeOpenAI

PROMPTS = ["hello there", "Solve for x: 3x + 7 = 22.", "Write a poem about rain.", "写一首诗"]


def forget_tags(engine: sa.Engine) -> None:
    """Make the votes look tagged by an older arena: a language and nothing else."""
    with session_scope(engine) as s:
        s.execute(update(Vote).values(categories=["english"], category_bits=bits_of(["english"])))


def tags(engine: sa.Engine) -> list[list[str]]:
    with session_scope(engine) as s:
        rows = s.exec(select(Vote).order_by(col(Vote.id))).all()
        return [names_of(v.category_bits) for v in rows]


def math_battles(client: httpx.Client, n: int) -> int:
    deadline = time.monotonic() + 10
    while True:
        data = client.get("/api/leaderboard", params={"category": "math"}).json()
        if data["total_battles"] >= n or time.monotonic() > deadline:
            return int(data["total_battles"])
        time.sleep(0.2)


def test_retag_restores_categories_resumably_and_refreshes_boards(
    arena_server: ArenaServer,
    fake: FakeOpenAI,
    database_url: str,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("ARENA_DATABASE_URL", database_url)
    monkeypatch.setenv("ARENA_CONFIG", str(tmp_path / "none.toml"))
    with (
        arena_server(count_leaked_votes=True, leaderboard_refresh_seconds=0.3) as srv,
        srv.client() as c,
    ):
        engine = arena_state(srv.app).engine
        for p in PROMPTS:
            play(c, prompt=p)
        assert math_battles(c, 1) == 1
        want = tags(engine)
        assert want[1] == ["english", "math"] and "creative-writing" in want[3]

        forget_tags(engine)
        with session_scope(engine) as s:
            first = s.exec(select(col(Vote.id)).order_by(col(Vote.id))).first()
            # An interrupted run got past the first two votes.
            s.add(Meta(key=checkpoint_key(None), value=str((first or 0) + 1)))
        assert main(["categories", "retag"]) == 0
        out = capsys.readouterr()
        assert "votes changed" in out.out and "leaderboards refreshed" in out.out
        now = tags(engine)
        assert now[:2] == [["english"], ["english"]]  # before the checkpoint: untouched
        assert now[2:] == want[2:]
        with session_scope(engine) as s:
            assert s.get(Meta, checkpoint_key(None)) is None  # done: the checkpoint is gone

        assert main(["categories", "retag"]) == 0  # a whole run now
        assert tags(engine) == want
        # The running arena's board sees the re-tagged old votes (its vote cache re-read them).
        assert math_battles(c, 1) == 1
        assert main(["categories", "list"]) == 0
        assert "math" in capsys.readouterr().out


def test_retag_since_leaves_older_votes(
    arena_server: ArenaServer,
    fake: FakeOpenAI,
    database_url: str,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    monkeypatch.setenv("ARENA_DATABASE_URL", database_url)
    monkeypatch.setenv("ARENA_CONFIG", str(tmp_path / "none.toml"))
    with arena_server(count_leaked_votes=True) as srv, srv.client() as c:
        engine = arena_state(srv.app).engine
        play(c, prompt=PROMPTS[1])
        forget_tags(engine)
        assert main(["categories", "retag", "--since", "2999-01-01"]) == 0
        assert tags(engine) == [["english"]]
        assert main(["categories", "retag", "--since", "2000-01-01"]) == 0
        assert tags(engine) == [["english", "math"]]


def test_llm_retag_needs_a_tagger(
    database_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("ARENA_DATABASE_URL", database_url)
    monkeypatch.setenv("ARENA_CONFIG", str(tmp_path / "none.toml"))
    assert main(["categories", "retag", "--tagger", "llm"]) == 2


def test_migration_fills_bits_from_json_tags(database_url: str) -> None:
    engine = make_engine(database_url)
    try:
        cfg = Config()
        cfg.set_main_option("script_location", str(MIGRATIONS))
        with engine.begin() as conn:
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, "0001")
        with engine.begin() as conn:
            conn.execute(
                sa.text(
                    "INSERT INTO endpoint (id, name, base_url, model, extra_body, weight, enabled,"
                    " aliases, retired, source, consecutive_failures, created_at, updated_at)"
                    " VALUES (:id, :n, 'http://x/v1', 'm', '{}', 1, true, '[]', false, 'file', 0,"
                    " CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
                ),
                [{"id": 1, "n": "a"}, {"id": 2, "n": "b"}],
            )
            for i, cats in enumerate(
                [["english", "code", "long"], ["chinese"], [], ["other-language", "coding"]]
            ):
                conn.execute(
                    sa.text(
                        "INSERT INTO battle (id, voter_id, model_a_id, model_b_id, status, anony,"
                        " created_at, updated_at) VALUES (:id, 'v', 1, 2, 'voted', true,"
                        " CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
                    ),
                    {"id": f"b{i}"},
                )
                conn.execute(
                    sa.text(
                        "INSERT INTO vote (battle_id, winner, voter_id, model_a_id, model_b_id,"
                        " anony, leaked, excluded, counted, categories, style, created_at)"
                        " VALUES (:b, 'tie', 'v', 1, 2, true, false, false, true, :c, '[]',"
                        " CURRENT_TIMESTAMP)"
                    ),
                    {"b": f"b{i}", "c": json.dumps(cats)},
                )
        migrate(engine)
        with session_scope(engine) as s:
            rows = s.exec(select(Vote).order_by(col(Vote.id))).all()
            assert [names_of(v.category_bits) for v in rows] == [
                ["english", "code", "long"],
                ["chinese"],
                [],
                ["other-language"],
            ]
            assert rows[3].categories == ["other-language", "coding"]  # the JSON stays
    finally:
        engine.dispose()
