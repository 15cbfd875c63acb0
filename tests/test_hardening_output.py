"""Model output that cannot be stored, or that echoes the endpoint's key, never breaks a battle."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from sqlmodel import Session, select

from arena.store.engine import make_engine
from arena.store.tables import Answer
from tests.conftest import answers, read_events
from tests.fake_openai import Behavior, FakeOpenAI


def battle_of(client: httpx.Client, prompt: str = "Say something") -> tuple[str, list[Any]]:
    r = client.post("/api/battles", json={"prompt": prompt})
    assert r.status_code == 201, r.text
    battle = str(r.json()["battle_id"])
    return battle, read_events(client, f"/api/battles/{battle}/stream")


def stored_answers(database_url: str) -> list[Answer]:
    engine = make_engine(database_url)
    try:
        with Session(engine) as session:
            return list(session.exec(select(Answer)).all())
    finally:
        engine.dispose()


@pytest.mark.parametrize("bad", ["\ud800", "\x00", "\udfff\x00\ud83d"])
def test_unstorable_output_is_replaced_and_the_battle_lives(
    client: httpx.Client, fake: FakeOpenAI, database_url: str, bad: str
) -> None:
    reply = f"Before {bad} after, and the rest of the answer."
    fake.set_default(Behavior(reply=reply, reasoning=f"Think {bad} on"))
    battle, events = battle_of(client)
    assert events[-1] == ("end", json.dumps({"status": "ready"}))
    streamed = answers(events)
    expected = reply.replace(bad, "\ufffd" * len(bad))
    assert streamed == {"a": expected, "b": expected}
    state = client.get(f"/api/battles/{battle}").json()
    for side in "ab":
        assert state["turns"][0][side]["content"] == expected
        assert state["turns"][0][side]["reasoning"] == "Think " + "\ufffd" * len(bad) + " on"
    for ans in stored_answers(database_url):
        assert ans.status == "done" and ans.content == expected
        assert ans.error is None
        assert ans.error_detail and "U+FFFD" in ans.error_detail
    r = client.post(f"/api/battles/{battle}/vote", json={"winner": "tie"})
    assert r.status_code == 200, r.text


def test_clean_output_has_no_note(
    client: httpx.Client, fake: FakeOpenAI, database_url: str
) -> None:
    battle_of(client)
    assert all(a.error_detail is None for a in stored_answers(database_url))
