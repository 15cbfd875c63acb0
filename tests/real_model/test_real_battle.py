"""A whole battle against two real llama.cpp servers: two turns, a vote, the leaderboard."""

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
from arena.store.tables import Answer, Endpoint
from tests.conftest import read_events

pytestmark = pytest.mark.real_model


@pytest.fixture(scope="module")
def local_servers() -> Iterator[LocalServers]:
    with LocalServers(DEFAULT_SPECS) as servers:
        yield servers


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_real_battle(
    local_servers: LocalServers,
    loopback_server: Any,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    entries = [{k: v for k, v in e.items() if v is not None} for e in local_servers.endpoints()]
    models = tmp_path / "local.toml"
    models.write_text(tomli_w.dumps({"models": entries}))
    names = {e["name"] for e in entries}
    with (
        loopback_server(
            models=models, first_token_timeout=120, stall_timeout=120, total_timeout=300
        ) as srv,
        httpx.Client(base_url=srv.url, timeout=300) as c,
    ):
        r = c.post(
            "/api/battles", json={"prompt": "Tell me a short story about a lighthouse keeper."}
        )
        assert r.status_code == 201, r.text
        battle = r.json()["battle_id"]
        for prompt in (None, "Now give it a happy ending."):
            if prompt:
                assert (
                    c.post(f"/api/battles/{battle}/turns", json={"prompt": prompt}).status_code
                    == 202
                )
            events = read_events(c, f"/api/battles/{battle}/stream")
            assert events[-1] == ("end", json.dumps({"status": "ready"}))
        state = c.get(f"/api/battles/{battle}").json()
        assert len(state["turns"]) == 2
        for turn in state["turns"]:
            for side in ("a", "b"):
                assert turn[side]["content"].strip(), turn
                assert turn[side]["error"] is None
        vote = c.post(f"/api/battles/{battle}/vote", json={"winner": "model_a"}).json()
        assert {vote["model_a"], vote["model_b"]} == names
        deadline = time.monotonic() + 10
        while (board := c.get("/api/leaderboard").json())["total_battles"] < 1:
            assert time.monotonic() < deadline
            time.sleep(0.2)
        assert {m["model"] for m in board["models"]} == names
        assert board["models"][0]["model"] == vote["model_a"]
        with Session(srv.app.state.arena.engine) as session:
            rows = session.exec(select(Answer)).all()
            names_by_id = {e.id: e.name for e in session.exec(select(Endpoint)).all()}
    with capsys.disabled():
        for row in rows:
            tokens = row.completion_tokens or len(row.content.split())
            rate = (
                tokens / ((row.total_ms - row.ttft_ms) / 1000)
                if row.total_ms and row.ttft_ms and row.total_ms > row.ttft_ms
                else float("nan")
            )
            print(
                f"\nreal model side {row.side} ({names_by_id[row.endpoint_id]}): first token "
                f"{row.ttft_ms:.0f} ms, {tokens} tokens, {rate:.1f} tokens/s, "
                f"finish {row.finish_reason}"
            )
