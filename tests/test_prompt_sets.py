"""Prompt sets: import, a run killed with SIGKILL halfway and resumed (nothing asked twice,
nothing lost), the set's board and export."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select

from arena.judges.promptsets import import_set, parse_prompts
from arena.store.judge_tables import Judgement, PromptAnswer
from tests.fake_openai import Behavior, FakeOpenAI
from tests.judging import add_endpoints

ROOT = Path(__file__).resolve().parent.parent


def test_parse_prompts() -> None:
    assert parse_prompts("one\n\n two \n") == [("one", None), ("two", None)]
    jsonl = '{"prompt": "p1", "category": "math"}\n{"prompt": "p2"}\n'
    assert parse_prompts(jsonl) == [("p1", "math"), ("p2", None)]
    for bad in ("", '{"prompt": ""}', '{"prompt": 3}', '{"prompt": "x"}\n{oops'):
        with pytest.raises(ValueError):
            parse_prompts(bad)


def env_for(database_url: str, tmp_path: Path) -> dict[str, str]:
    return {
        **os.environ,
        "ARENA_DATABASE_URL": database_url,
        "ARENA_CONFIG": str(tmp_path / "none.toml"),
        "ARENA_MODELS": str(tmp_path / "none-models.toml"),
        "ARENA_UPSTREAM_RETRIES": "0",
    }


def count(engine: Engine, table: type) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(table)).scalar_one())


def test_a_run_killed_halfway_resumes_without_asking_twice(
    db: Engine, fake: FakeOpenAI, database_url: str, tmp_path: Path
) -> None:
    add_endpoints(db, fake.base_url, alpha=False, beta=False, judge=True)
    slow = Behavior(token_delay=0.04)  # about a second an answer
    fake.set_behavior("up-alpha", slow)
    fake.set_behavior("up-beta", slow)
    fake.set_behavior("up-judge", Behavior(replies=("Thinking. [[A>B]]", "Hmm. [[B>>A]]")))
    prompts = [f"Prompt number {i}?" for i in range(8)]
    assert import_set(db, "set1", [(p, None) for p in prompts]) == 8
    env = env_for(database_url, tmp_path)
    cmd = [sys.executable, "-m", "arena", "prompts", "run", "set1", "--models", "alpha,beta"]
    cmd += ["--concurrency", "2", "--no-progress"]
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 60
    while count(db, PromptAnswer) < 4:
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline, "the run stored no answers"
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.communicate()  # waits, and closes its pipes
    assert proc.returncode == -signal.SIGKILL
    stored = count(db, PromptAnswer)
    assert 4 <= stored < 16
    assert not fake.requests_for("up-judge")

    done = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert f"{16 - stored} new, {stored} already stored" in done.stderr
    assert count(db, PromptAnswer) == 16  # none lost
    completed = Counter(
        (r.model, str((r.messages or [])[-1]["content"]))
        for model in ("up-alpha", "up-beta")
        for r in fake.requests_for(model)
        if r.outcome == "completed"
    )
    assert set(completed) == {(m, p) for m in ("up-alpha", "up-beta") for p in prompts}
    assert set(completed.values()) == {1}  # no answer generated twice
    assert len(fake.requests_for("up-judge")) == 8 * 2  # one pair, both orders, every prompt
    assert "alpha" in done.stdout and "beta" in done.stdout  # the set's leaderboard

    again = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert again.returncode == 0 and "0 new, 16 already stored" in again.stderr
    assert len(fake.requests_for("up-judge")) == 16  # finished verdicts are not asked again

    out = tmp_path / "set1.jsonl"
    export = subprocess.run(
        [sys.executable, "-m", "arena", "prompts", "export", "set1", "--out", str(out)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert export.returncode == 0, export.stderr
    records = [json.loads(line) for line in out.read_text().splitlines()]
    assert len(records) == 16 and {r["judge"] for r in records} == {"judge"}
    # Replies alternate [[A>B]], [[B>>A]]: the order decides, so judged a-first and b-first
    # verdicts come out in the battle's own orientation.
    with db.connect() as conn:
        rows = conn.execute(select(Judgement.swapped, Judgement.verdict, Judgement.outcome)).all()
    for swapped, verdict, outcome in rows:
        a_shown_first_won = verdict.startswith("A")
        assert (outcome == "model_a") == (a_shown_first_won != swapped)
