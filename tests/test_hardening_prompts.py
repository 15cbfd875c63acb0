"""Prompts that cannot be stored or show nothing are refused before any model is asked."""

from __future__ import annotations

import json

import httpx
import pytest

from tests.fake_openai import FakeOpenAI

UNSTORABLE = ["\ud800", "hello \udfff world", "\udbff"]
INVISIBLE = ["\u200b", " \u200b\u200c\u200d\ufeff ", "\u2060\u00ad", "\u3164", "\u2800 \u034f"]


def post_json(client: httpx.Client, url: str, prompt: str) -> httpx.Response:
    # json.dumps escapes a lone surrogate as \ud800, as a browser's JSON.stringify does.
    body = json.dumps({"prompt": prompt})
    return client.post(url, content=body, headers={"content-type": "application/json"})


@pytest.mark.parametrize("prompt", UNSTORABLE + INVISIBLE)
def test_refused_prompt_is_422_and_asks_no_model(
    client: httpx.Client, fake: FakeOpenAI, prompt: str
) -> None:
    r = post_json(client, "/api/battles", prompt)
    assert r.status_code == 422, r.text
    assert r.json()["detail"]
    assert fake.chat_requests == []
    # The connection is still good for the next request.
    ok = client.post("/api/battles", json={"prompt": "Hello there"})
    assert ok.status_code == 201, ok.text


@pytest.mark.parametrize("prompt", UNSTORABLE + INVISIBLE[:2])
def test_refused_follow_up_is_422_and_asks_no_model(
    client: httpx.Client, fake: FakeOpenAI, prompt: str
) -> None:
    r = client.post("/api/battles", json={"prompt": "First question"})
    battle = r.json()["battle_id"]
    with client.stream("GET", f"/api/battles/{battle}/stream") as stream:
        stream.read()
    asked = len(fake.chat_requests)
    r = post_json(client, f"/api/battles/{battle}/turns", prompt)
    assert r.status_code == 422, r.text
    assert len(fake.chat_requests) == asked
    state = client.get(f"/api/battles/{battle}").json()
    assert state["status"] == "ready" and len(state["turns"]) == 1


def test_visible_text_around_invisible_characters_is_kept(
    client: httpx.Client, fake: FakeOpenAI
) -> None:
    r = client.post("/api/battles", json={"prompt": "\u200bhi\u200d👩‍💻"})
    assert r.status_code == 201, r.text
    state = client.get(f"/api/battles/{r.json()['battle_id']}").json()
    assert state["turns"][0]["prompt"] == "\u200bhi\u200d👩‍💻"
