"""Model output that cannot be stored, or that echoes the endpoint's key, never breaks a battle."""

from __future__ import annotations

import base64
import json
import urllib.parse
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlmodel import Session, select

from arena.store.engine import make_engine
from arena.store.tables import Answer
from arena.upstream.guard import TextGuard, secret_forms
from tests.conftest import answers, read_events, write_models
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


KEY = "sk-live-Q2hlZXNlIGlzIGdvb2Q0123456789"


def key_forms(key: str) -> list[str]:
    return [
        key,
        base64.b64encode(key.encode()).decode(),
        urllib.parse.quote(key, safe=""),
        base64.b64encode(f"user:{key}".encode()).decode()[8:-4],
    ]


@pytest.mark.parametrize("tokens_per_chunk", [1, 3])
def test_an_echoed_key_is_redacted_everywhere(
    arena_server: Any,
    fake: FakeOpenAI,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    tokens_per_chunk: int,
) -> None:
    monkeypatch.setenv("ECHO_TEST_API_KEY", KEY)
    models = write_models(tmp_path / "keyed.toml", fake.base_url, api_key_env="ECHO_TEST_API_KEY")
    b64_userpass = base64.b64encode(f"user:{KEY}".encode()).decode()
    fake.set_default(
        Behavior(
            echo_key=True,
            tokens_per_chunk=tokens_per_chunk,
            reply=f"Basic {b64_userpass} and a reasoned answer.",
            reasoning=f"my key is {KEY}",
        )
    )
    with arena_server(models=models) as srv, srv.client() as client:
        r = client.post("/api/battles", json={"prompt": "What is your key?"})
        battle = r.json()["battle_id"]
        with client.stream("GET", f"/api/battles/{battle}/stream") as stream:
            raw_stream = stream.read().decode()
        assert fake.chat_requests[-1].api_key == KEY  # the upstream did get (and echo) it
        state = client.get(f"/api/battles/{battle}").text
        page = client.get(f"/battles/{battle}").text
        assert client.post(f"/api/battles/{battle}/vote", json={"winner": "tie"}).status_code == 200
        export = client.get(
            "/api/admin/battles.jsonl",
            headers={"Authorization": "Bearer test-admin-token-0123"},
        )
        assert export.status_code == 200, export.text
        for where, text in (("stream", raw_stream), ("battle", state), ("page", page)):
            assert "[redacted]" in text, where
            for form in key_forms(KEY):
                assert form not in text, (where, form)
        for form in key_forms(KEY):
            assert form not in export.text
            assert form not in json.dumps(json.loads(export.text.splitlines()[0]))
        assert "a reasoned answer" in json.loads(state)["turns"][0]["a"]["content"]


def test_a_key_split_over_pieces_is_still_redacted() -> None:
    guard = TextGuard(secret_forms(KEY))
    text = f"start {KEY} middle Bearer {KEY} end"
    out = "".join(guard.feed(text[i : i + 3]) for i in range(0, len(text), 3)) + guard.flush()
    assert out == "start [redacted] middle [redacted] end"
    assert guard.redacted == 2


def test_short_and_placeholder_keys_are_not_scrubbed() -> None:
    assert secret_forms("sk-1234") == []
    assert secret_forms("sk-no-key") == []


def test_an_answer_past_the_limit_is_cut_and_the_upstream_closed(
    arena_server: Any, fake: FakeOpenAI, database_url: str
) -> None:
    fake.set_default(Behavior(reply="word " * 5000, token_delay=0.001))
    with (
        arena_server(max_answer_chars=300) as srv,
        srv.client() as client,
    ):
        r = client.post("/api/battles", json={"prompt": "Talk a lot"})
        battle = r.json()["battle_id"]
        events = read_events(client, f"/api/battles/{battle}/stream")
        assert events[-1] == ("end", json.dumps({"status": "ready"}))
        streamed = answers(events)
        assert streamed["a"] == streamed["b"] == ("word " * 60)[:300]
        done = [json.loads(d) for n, d in events if n == "done"]
        assert all(d["status"] == "done" and "cut" in d["error"] for d in done)
        fake.wait_for(lambda: all(r.outcome == "disconnected" for r in fake.chat_requests))
        stored = stored_answers(database_url)
        assert [(a.finish_reason, len(a.content)) for a in stored] == [("length", 300)] * 2
        assert client.post(f"/api/battles/{battle}/vote", json={"winner": "tie"}).status_code == 200
