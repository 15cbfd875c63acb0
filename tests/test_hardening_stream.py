"""A stream sends text only when there is text: the first delta is the first token."""

from __future__ import annotations

import json

import httpx

from tests.conftest import answers, read_events
from tests.fake_openai import Behavior, FakeOpenAI


def deltas(events: list[tuple[str, str]]) -> list[dict[str, object]]:
    return [json.loads(d) for n, d in events if n == "delta"]


def test_live_stream_sends_no_empty_text(client: httpx.Client, fake: FakeOpenAI) -> None:
    fake.set_default(Behavior(first_token_delay=0.3))
    r = client.post("/api/battles", json={"prompt": "Hello"})
    battle = r.json()["battle_id"]
    events = read_events(client, f"/api/battles/{battle}/stream")
    assert events[0][0] == "delta"
    assert all(d["text"] for d in deltas(events))
    # A replay of the finished turn (from the database) still sends the whole text at once.
    replay = read_events(client, f"/api/battles/{battle}/stream")
    assert [d["replace"] for d in deltas(replay)] == [True, True]
    assert answers(replay) == answers(events) and all(answers(replay).values())


def test_replay_of_empty_answers_sends_no_text(client: httpx.Client, fake: FakeOpenAI) -> None:
    fake.set_default(Behavior(stall_after=0))
    r = client.post("/api/battles", json={"prompt": "Hello"})
    battle = r.json()["battle_id"]
    fake.wait_for(lambda: len(fake.chat_requests) == 2)
    client.post(f"/api/battles/{battle}/stop", json={})
    read_events(client, f"/api/battles/{battle}/stream")
    replay = read_events(client, f"/api/battles/{battle}/stream")
    assert deltas(replay) == []
    assert [n for n, _ in replay] == ["done", "done", "end"]
