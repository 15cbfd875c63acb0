"""A real llama.cpp model judges a real battle: a verdict, or a recorded "no verdict", is stored."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import tomli_w
from sqlmodel import Session, select

from arena.cli.local_models import DEFAULT_SPECS, LocalServers
from arena.judges.verdicts import LABELS
from arena.store.engine import make_engine
from arena.store.judge_tables import Judgement
from tests.conftest import read_events

pytestmark = pytest.mark.real_model


@pytest.fixture(scope="module")
def local_servers() -> Iterator[LocalServers]:
    with LocalServers(DEFAULT_SPECS) as servers:
        yield servers


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_real_model_judges_a_real_battle(
    local_servers: LocalServers, loopback_server: Any, tmp_path: Path, database_url: str
) -> None:
    entries = [{k: v for k, v in e.items() if v is not None} for e in local_servers.endpoints()]
    judge = {**entries[0], "name": "local-judge", "judge": True, "enabled": False}
    judge["max_tokens"] = 300
    models = tmp_path / "local.toml"
    models.write_text(tomli_w.dumps({"models": [*entries, judge]}))
    with (
        loopback_server(
            models=models,
            first_token_timeout=120,
            stall_timeout=120,
            total_timeout=300,
            judge_poll_seconds=0.5,
        ) as srv,
        httpx.Client(base_url=srv.url, timeout=300) as c,
    ):
        r = c.post("/api/battles", json={"prompt": "What is the capital of France? One sentence."})
        assert r.status_code == 201, r.text
        battle = r.json()["battle_id"]
        events = read_events(c, f"/api/battles/{battle}/stream")
        assert events[-1] == ("end", json.dumps({"status": "ready"}))
        assert c.post(f"/api/battles/{battle}/vote", json={"winner": "tie"}).status_code == 200
        engine = make_engine(database_url)
        try:
            deadline = time.monotonic() + 300
            while True:
                with Session(engine) as s:
                    rows = list(s.exec(select(Judgement).where(Judgement.battle_id == battle)))
                if len(rows) == 2 and all(r.status in ("done", "failed") for r in rows):
                    break
                assert time.monotonic() < deadline, [(r.status, r.error) for r in rows]
                time.sleep(1)
        finally:
            engine.dispose()
        assert {r.swapped for r in rows} == {False, True}
        for row in rows:
            assert row.status == "done", row.error  # the judge answered
            assert row.reply  # its raw reply is kept for audit
            if row.verdict is None:
                assert row.outcome is None and row.error == "no verdict label in the reply"
            else:
                assert row.verdict in LABELS and row.outcome in ("model_a", "model_b", "tie")
        print("judge replies:", [(r.verdict, (r.reply or "")[-80:]) for r in rows])
        assert c.get("/api/judges").json()["judges"][0]["judge"] == "local-judge"
