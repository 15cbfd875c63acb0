"""The blind battle through the JSON API: create, stream, follow up, vote, reveal."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlmodel import Session, select

from arena.store.engine import make_engine
from arena.store.tables import Answer
from tests.conftest import MODELS, answers, read_events, write_models
from tests.fake_openai import Behavior, FakeOpenAI, default_reply, tokenize
from tests.inproc import RunningArena


def start(client: httpx.Client, prompt: str = "What is 2+2?") -> str:
    r = client.post("/api/battles", json={"prompt": prompt})
    assert r.status_code == 201, r.text
    return str(r.json()["battle_id"])


def test_whole_battle(client: httpx.Client, fake: FakeOpenAI) -> None:
    battle = start(client, "Tell me about otters")
    events = read_events(client, f"/api/battles/{battle}/stream")
    names = [n for n, _ in events]
    assert names[-1] == "end" and json.loads(events[-1][1]) == {"status": "ready"}
    assert names.count("done") == 2
    text = answers(events)
    assert text["a"].startswith("Echo: Tell me about otters")
    assert text["b"].startswith("Echo: Tell me about otters")

    state = client.get(f"/api/battles/{battle}").json()
    assert state["status"] == "ready"
    assert state["model_a"] is None and state["model_b"] is None
    assert state["turns"][0]["a"]["content"] == text["a"]
    assert state["turns"][0]["prompt"] == "Tell me about otters"

    # A follow-up: both models get the whole conversation.
    r = client.post(f"/api/battles/{battle}/turns", json={"prompt": "And beavers?"})
    assert r.status_code == 202, r.text
    events = read_events(client, f"/api/battles/{battle}/stream")
    assert answers(events)["a"].startswith("Echo: And beavers?")
    last = fake.chat_requests[-1]
    assert [m["role"] for m in last.messages] == ["user", "assistant", "user"]
    assert last.messages[0]["content"] == "Tell me about otters"

    r = client.post(f"/api/battles/{battle}/vote", json={"winner": "model_a"})
    assert r.status_code == 200, r.text
    reveal = r.json()
    assert {reveal["model_a"], reveal["model_b"]} == set(MODELS)
    state = client.get(f"/api/battles/{battle}").json()
    assert state["status"] == "voted"
    assert {state["model_a"], state["model_b"]} == set(MODELS)
    assert len(state["turns"]) == 2

    # One vote per battle.
    again = client.post(f"/api/battles/{battle}/vote", json={"winner": "tie"})
    assert again.status_code == 409
    assert "already" in again.json()["detail"]


def test_both_sides_stream_concurrently(client: httpx.Client, fake: FakeOpenAI) -> None:
    """A slow side never holds the other back: the fast side finishes first."""
    fake.set_behavior(MODELS["alpha"], Behavior(token_delay=0.05))
    fake.set_behavior(MODELS["beta"], Behavior(token_delay=0.0))
    battle = start(client)
    events = read_events(client, f"/api/battles/{battle}/stream")
    done = [json.loads(d) for n, d in events if n == "done"]
    state = client.get(f"/api/battles/{battle}").json()
    # Which side got the slow model is random; the fast one must be done first.
    r = client.post(f"/api/battles/{battle}/vote", json={"winner": "tie"}).json()
    fast_side = "a" if r["model_a"] == "beta" else "b"
    assert done[0]["side"] == fast_side
    assert state["status"] == "ready"


def test_stream_again_replays_without_second_generation(
    client: httpx.Client, fake: FakeOpenAI
) -> None:
    battle = start(client)
    first = answers(read_events(client, f"/api/battles/{battle}/stream"))
    calls = len(fake.chat_requests)
    again = read_events(client, f"/api/battles/{battle}/stream")
    assert answers(again) == first
    assert again[-1][0] == "end"
    assert len(fake.chat_requests) == calls


def test_vote_before_answers_finish_is_409(client: httpx.Client, fake: FakeOpenAI) -> None:
    fake.set_default(Behavior(token_delay=0.2))
    battle = start(client)
    r = client.post(f"/api/battles/{battle}/vote", json={"winner": "model_a"})
    assert r.status_code == 409
    # Also while it is streaming.
    with client.stream("GET", f"/api/battles/{battle}/stream") as resp:
        for line in resp.iter_lines():
            if line.startswith("event: delta"):
                break
        r = client.post(f"/api/battles/{battle}/vote", json={"winner": "model_a"})
        assert r.status_code == 409
        assert client.get(f"/api/battles/{battle}").json()["status"] == "streaming"


def test_other_voter_and_unknown_battle(client: httpx.Client, arena: RunningArena) -> None:
    battle = start(client)
    read_events(client, f"/api/battles/{battle}/stream")
    with arena.client() as other:
        assert other.post(f"/api/battles/{battle}/vote", json={"winner": "tie"}).status_code == 403
        assert other.get(f"/api/battles/{battle}").status_code == 403
        assert other.get(f"/api/battles/{battle}/stream").status_code == 403
    assert client.post("/api/battles/nope/vote", json={"winner": "tie"}).status_code == 404
    assert client.get("/api/battles/nope").status_code == 404


@pytest.mark.parametrize(
    "body",
    [
        {"prompt": ""},
        {"prompt": "   \n\t "},
        {"prompt": "x" * 30_001},
        {},
        {"prompt": 42},
        {"prompt": None},
    ],
)
def test_bad_prompts_are_4xx(shared_client: httpx.Client, body: dict[str, object]) -> None:
    client = shared_client
    r = client.post("/api/battles", json=body)
    assert 400 <= r.status_code < 500, r.text
    assert "detail" in r.json()


def test_not_json_is_4xx(shared_client: httpx.Client) -> None:
    client = shared_client
    r = client.post(
        "/api/battles", content=b"{not json", headers={"content-type": "application/json"}
    )
    assert r.status_code == 422
    r = client.post("/api/battles", data={"prompt": "hi"})
    assert r.status_code == 415
    assert "JSON" in r.json()["detail"]


def test_unknown_winner_is_422(shared_client: httpx.Client) -> None:
    client = shared_client
    battle = start(client)
    read_events(client, f"/api/battles/{battle}/stream")
    r = client.post(f"/api/battles/{battle}/vote", json={"winner": "model_c"})
    assert r.status_code == 422
    assert client.get(f"/api/battles/{battle}").json()["status"] == "ready"


def test_prompt_limit_is_a_setting(arena_server: Any) -> None:
    with arena_server(max_prompt_chars=10) as srv, srv.client() as c:
        assert c.post("/api/battles", json={"prompt": "x" * 11}).status_code == 422
        assert c.post("/api/battles", json={"prompt": "x" * 10}).status_code == 201


def test_fewer_than_two_models(arena_server: Any, tmp_path: Path, fake: FakeOpenAI) -> None:
    models = write_models(tmp_path / "one.toml", fake.base_url, {"solo": "x"})
    with arena_server(models=models) as srv, srv.client() as c:
        r = c.post("/api/battles", json={"prompt": "hi"})
        assert r.status_code == 409
        assert "at least two" in r.json()["detail"]
        page = c.get("/")
        assert page.status_code == 200
        assert "at least two enabled models" in page.text


def test_endpoint_settings_reach_the_upstream(
    arena_server: Any, tmp_path: Path, fake: FakeOpenAI, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Temperature, top_p, max_tokens, the system prompt, extra_body and the key are sent as
    the endpoint says, with streaming usage asked for; reasoning never goes back."""
    monkeypatch.setenv("TEST_UPSTREAM_API_KEY", "sk-test-0123456789")
    fake.set_default(Behavior(reasoning="Thinking it over."))
    models = write_models(
        tmp_path / "models.toml",
        fake.base_url,
        temperature=0.3,
        top_p=0.9,
        max_tokens=123,
        system_prompt="Answer briefly.",
        extra_body={"enable_thinking": True},
        api_key_env="TEST_UPSTREAM_API_KEY",
    )
    with arena_server(models=models) as srv, srv.client() as c:
        battle = start(c, "Name a river")
        read_events(c, f"/api/battles/{battle}/stream")
        assert (
            c.post(f"/api/battles/{battle}/turns", json={"prompt": "Another?"}).status_code == 202
        )
        read_events(c, f"/api/battles/{battle}/stream")
    first, follow_up = fake.chat_requests[:2], fake.chat_requests[2:]
    assert len(first) == 2 and len(follow_up) == 2
    for rec in first + follow_up:
        assert {k: rec.body[k] for k in ("temperature", "top_p", "max_tokens")} == {
            "temperature": 0.3,
            "top_p": 0.9,
            "max_tokens": 123,
        }
        assert rec.body["enable_thinking"] is True
        assert rec.body["stream"] is True and rec.body["stream_options"] == {"include_usage": True}
        assert rec.api_key == "sk-test-0123456789"
        assert rec.messages is not None and rec.messages[0] == {
            "role": "system",
            "content": "Answer briefly.",
        }
    history = follow_up[0].messages
    assert history is not None and [m["role"] for m in history] == [
        "system",
        "user",
        "assistant",
        "user",
    ]
    assert set(history[2]) == {"role", "content"}  # only role and content go back
    assert "Thinking it over" not in history[2]["content"]


def test_an_event_stream_framed_as_the_standard_allows(
    arena_server: Any, fake: FakeOpenAI, database_url: str
) -> None:
    """CRLF line ends, comments, `event:` lines, each chunk's JSON over several `data:` lines and
    a CRLF split between two reads: the same answer, reasoning and usage as plain framing."""
    fake.set_default(Behavior(reasoning="Thinking it over.", framing="awkward"))
    prompt = "Name a river"
    with arena_server() as srv, srv.client() as c:
        battle = start(c, prompt)
        events = read_events(c, f"/api/battles/{battle}/stream")
        assert events[-1] == ("end", json.dumps({"status": "ready"}))
        expected = default_reply([{"role": "user", "content": prompt}])
        assert answers(events) == {"a": expected, "b": expected}
        turn = c.get(f"/api/battles/{battle}").json()["turns"][0]
        assert [turn[s]["reasoning"] for s in "ab"] == ["Thinking it over."] * 2
    engine = make_engine(database_url)
    try:
        with Session(engine) as s:
            stored = s.exec(select(Answer)).all()
    finally:
        engine.dispose()
    words = len(tokenize(expected)) + len(tokenize("Thinking it over."))
    # The usage chunk arrived intact: its counts, not the number of streamed pieces.
    assert [(a.finish_reason, a.completion_tokens) for a in stored] == [("stop", words)] * 2
    assert all(a.prompt_tokens for a in stored)
