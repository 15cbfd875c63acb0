"""A turn where a side gave no answer takes no vote: the names stay hidden."""

from __future__ import annotations

import json

import httpx
import pytest

from tests.conftest import MODELS, read_events
from tests.fake_openai import Behavior, FakeOpenAI


def shown(client: httpx.Client, battle: str) -> int:
    """How many sides have shown text so far."""
    turn = client.get(f"/api/battles/{battle}").json()["turns"][0]
    return sum(bool(turn[s]["content"]) for s in "ab")


def stopped_battle(client: httpx.Client, fake: FakeOpenAI, sides_with_text: int = 0) -> str:
    """A battle whose first turn was stopped while its hanging sides still wait."""
    r = client.post("/api/battles", json={"prompt": "Tell me a story"})
    assert r.status_code == 201, r.text
    battle = str(r.json()["battle_id"])
    fake.wait_for(lambda: len(fake.chat_requests) >= 2)
    fake.wait_for(lambda: shown(client, battle) >= sides_with_text)
    r = client.post(f"/api/battles/{battle}/stop", json={})
    assert r.status_code == 200, r.text
    events = read_events(client, f"/api/battles/{battle}/stream")
    assert events[-1] == ("end", json.dumps({"status": "ready"}))
    return battle


@pytest.mark.parametrize("hanging", [("alpha", "beta"), ("alpha",)])
def test_stop_before_any_token_is_not_votable(
    client: httpx.Client, fake: FakeOpenAI, hanging: tuple[str, ...]
) -> None:
    for name in MODELS:
        stall = 0 if name in hanging else 3
        fake.set_behavior(MODELS[name], Behavior(stall_after=stall))
    battle = stopped_battle(client, fake, 2 - len(hanging))
    r = client.post(f"/api/battles/{battle}/vote", json={"winner": "model_a"})
    assert r.status_code == 409, r.text
    assert "no answer" in r.json()["detail"]
    state = client.get(f"/api/battles/{battle}").json()
    assert state["status"] == "ready"
    assert state["model_a"] is None and state["model_b"] is None

    # A follow-up the models do answer makes the battle votable again.
    fake.reset()
    r = client.post(f"/api/battles/{battle}/turns", json={"prompt": "Try again"})
    assert r.status_code == 202, r.text
    read_events(client, f"/api/battles/{battle}/stream")
    r = client.post(f"/api/battles/{battle}/vote", json={"winner": "model_a"})
    assert r.status_code == 200, r.text


def test_stop_after_some_tokens_is_votable(client: httpx.Client, fake: FakeOpenAI) -> None:
    fake.set_default(Behavior(stall_after=2))
    battle = stopped_battle(client, fake, 2)
    state = client.get(f"/api/battles/{battle}").json()
    assert all(state["turns"][0][s]["content"] for s in "ab")
    r = client.post(f"/api/battles/{battle}/vote", json={"winner": "tie"})
    assert r.status_code == 200, r.text
