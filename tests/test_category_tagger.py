"""The LLM tagger against the loopback upstream: a valid answer, malformed JSON, a timeout, the
cache by prompt hash, and claims shared by workers. The voter never waits, and no vote is lost."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import tomli_w
from sqlalchemy import Engine
from sqlmodel import select

from arena.store.engine import make_engine, migrate, session_scope
from arena.store.tables import PromptTag, Vote
from arena.votes.category_bits import bit, names_of
from arena.votes.tag_jobs import claim, enqueue
from arena.web.state import arena_state
from tests.admin_client import play
from tests.conftest import ArenaServer
from tests.fake_openai import Behavior, FakeOpenAI

TAGGER_ID = "upstream-tagger"
CRITERIA = (
    "specificity",
    "domain_knowledge",
    "complexity",
    "problem_solving",
    "creativity",
    "technical_accuracy",
    "real_world",
)


def answer(*, math: bool = False, code: bool = False, criteria: int = 0) -> str:
    return json.dumps(
        {
            "math": math,
            "code": code,
            "creative_writing": False,
            "instruction_following": False,
            "criteria": {c: i < criteria for i, c in enumerate(CRITERIA)},
        }
    )


def models_with_tagger(tmp_path: Path, base_url: str) -> Path:
    entries = [
        {"name": "alpha", "base_url": base_url, "model": "upstream-alpha-7b"},
        {"name": "beta", "base_url": base_url, "model": "upstream-beta-13b"},
        # Only tags: `enabled = false` keeps it out of battles.
        {"name": "tagger", "base_url": base_url, "model": TAGGER_ID, "enabled": False},
    ]
    path = tmp_path / "models-tagger.toml"
    path.write_text(tomli_w.dumps({"models": entries}))
    return path


def settle(engine: Engine, done: Callable[[PromptTag], bool], timeout: float = 15) -> PromptTag:
    """The one PromptTag row once `done` holds for it."""
    deadline = time.monotonic() + timeout
    while True:
        with session_scope(engine) as s:
            row = s.exec(select(PromptTag)).first()
        if (row is not None and done(row)) or time.monotonic() > deadline:
            assert row is not None
            return row
        time.sleep(0.1)


def votes(engine: Engine) -> list[Vote]:
    with session_scope(engine) as s:
        return list(s.exec(select(Vote).order_by(Vote.id)).all())  # type: ignore[arg-type]


def start(arena_server: ArenaServer, fake: FakeOpenAI, tmp_path: Path, **overrides: Any) -> Any:
    return arena_server(
        models=models_with_tagger(tmp_path, fake.base_url),
        category_tagger="tagger",
        tagger_poll_seconds=0.1,
        **overrides,
    )


def test_valid_answer_retags_the_vote_and_is_cached(
    arena_server: ArenaServer, fake: FakeOpenAI, tmp_path: Path
) -> None:
    fake.set_behavior(TAGGER_ID, Behavior(reply=answer(code=True, criteria=6)))
    with start(arena_server, fake, tmp_path) as srv, srv.client() as c:
        engine = arena_state(srv.app).engine
        play(c, prompt="hello there")
        first = votes(engine)[0]
        assert first.categories == ["english"]  # the rules' tags, at once
        row = settle(engine, lambda r: r.status == "done")
        assert row.tagger == "tagger" and row.bits == bit("code") | bit("hard-prompts")
        tagged = votes(engine)[0]
        assert names_of(tagged.category_bits) == ["english", "code", "hard-prompts"]
        assert tagged.categories == ["english", "code", "hard-prompts"]
        # The same prompt again: the cached answer applies when the vote is cast.
        play(c, prompt="  Hello   THERE ")
        assert votes(engine)[1].category_bits == tagged.category_bits
        assert len(fake.requests_for(TAGGER_ID)) == 1
        request = fake.requests_for(TAGGER_ID)[0]
        assert "hello there" in json.dumps(request.messages)
        cats = c.get("/api/categories").json()["categories"]
        assert {x["category"]: x["battles"] for x in cats}["code"] == 2


def test_malformed_json_keeps_the_rules_tags(
    arena_server: ArenaServer, fake: FakeOpenAI, tmp_path: Path
) -> None:
    fake.set_behavior(TAGGER_ID, Behavior(reply='Sure! {"math": yes, "code": false'))
    with start(arena_server, fake, tmp_path, tagger_retries=1) as srv, srv.client() as c:
        engine = arena_state(srv.app).engine
        play(c, prompt="Solve for x: 3x + 7 = 22.")
        row = settle(engine, lambda r: r.status == "failed")
        assert row.status == "failed" and row.attempts == 2 and "JSON" in (row.error or "")
        assert len(fake.requests_for(TAGGER_ID)) == 2
        (vote,) = votes(engine)
        assert vote.counted and names_of(vote.category_bits) == ["english", "math"]


def test_a_wrong_shape_is_malformed_too(
    arena_server: ArenaServer, fake: FakeOpenAI, tmp_path: Path
) -> None:
    # Valid JSON, wrong shape: a string where a boolean must be, and a key too many.
    reply = json.loads(answer(math=True))
    reply["math"], reply["mood"] = "true", "happy"
    fake.set_behavior(TAGGER_ID, Behavior(reply=json.dumps(reply)))
    with start(arena_server, fake, tmp_path, tagger_retries=0) as srv, srv.client() as c:
        engine = arena_state(srv.app).engine
        play(c, prompt="hello there")
        row = settle(engine, lambda r: r.status == "failed")
        assert row.status == "failed"
        assert names_of(votes(engine)[0].category_bits) == ["english"]


def test_timeout_keeps_the_rules_tags_and_the_vote(
    arena_server: ArenaServer, fake: FakeOpenAI, tmp_path: Path
) -> None:
    fake.set_behavior(TAGGER_ID, Behavior(reply=answer(code=True), first_token_delay=30))
    with (
        start(arena_server, fake, tmp_path, tagger_timeout=0.5, tagger_retries=1) as srv,
        srv.client() as c,
    ):
        engine = arena_state(srv.app).engine
        # The vote is acknowledged while the tagger has not answered: it never waits for it.
        play(c, prompt="Solve for x: 3x + 7 = 22.")
        assert votes(engine)[0].counted
        row = settle(engine, lambda r: r.status == "failed")
        assert row.status == "failed" and "0.5 s" in (row.error or "")
        assert names_of(votes(engine)[0].category_bits) == ["english", "math"]
        data = c.get("/api/leaderboard", params={"category": "math"}).json()
        deadline = time.monotonic() + 10
        while data["total_battles"] < 1 and time.monotonic() < deadline:
            time.sleep(0.2)
            data = c.get("/api/leaderboard", params={"category": "math"}).json()
        assert data["total_battles"] == 1


def test_workers_never_claim_the_same_prompt(database_url: str) -> None:
    engine = make_engine(database_url)
    try:
        migrate(engine)
        hashes = [f"h{i:03d}" for i in range(40)]
        with session_scope(engine) as s:
            enqueue(s, hashes)
        taken: list[list[str]] = []

        def worker() -> None:
            got: list[str] = []
            while batch := claim(engine, 3, timedelta(minutes=1)):
                got += [j.prompt_hash for j in batch]
            taken.append(got)

        # No vote holds these prompts, so each claim also gives its prompt up as failed: what
        # matters is that every prompt is taken exactly once.
        threads = [threading.Thread(target=worker) for _ in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        with session_scope(engine) as s:
            rows = s.exec(select(PromptTag)).all()
        assert len(rows) == 40 and {r.status for r in rows} == {"failed"}
        assert all(r.attempts == 1 for r in rows)
        claimed = [h for got in taken for h in got]
        assert claimed == [] or len(claimed) == len(set(claimed))
    finally:
        engine.dispose()


def test_retag_with_the_llm(
    arena_server: ArenaServer,
    fake: FakeOpenAI,
    tmp_path: Path,
    database_url: str,
    monkeypatch: Any,
) -> None:
    from arena.cli.main import main

    # The arena runs without a tagger; the command is given one afterwards.
    models = models_with_tagger(tmp_path, fake.base_url)
    with arena_server(models=models) as srv, srv.client() as c:
        engine = arena_state(srv.app).engine
        play(c, prompt="hello there")
        play(c, prompt="Solve for x: 3x + 7 = 22.")
        fake.set_behavior(
            TAGGER_ID,
            Behavior(reply=lambda messages: answer(math="3x" in json.dumps(messages), criteria=7)),
        )
        monkeypatch.setenv("ARENA_DATABASE_URL", database_url)
        monkeypatch.setenv("ARENA_CONFIG", str(tmp_path / "none.toml"))
        monkeypatch.setenv("ARENA_CATEGORY_TAGGER", "tagger")
        assert main(["categories", "retag", "--tagger", "llm"]) == 0
        assert [names_of(v.category_bits) for v in votes(engine)] == [
            ["english", "hard-prompts"],
            ["english", "math", "hard-prompts"],
        ]
        assert len(fake.requests_for(TAGGER_ID)) == 2
        assert main(["categories", "retag", "--tagger", "llm"]) == 0  # cached: no new requests
        assert len(fake.requests_for(TAGGER_ID)) == 2
