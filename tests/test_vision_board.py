"""Text and vision leaderboards: each counts only its own battles, on the API, page and CLI."""

from __future__ import annotations

import json
import time
from typing import Any

import httpx
import pytest

from tests.conftest import read_events
from tests.fake_openai import FakeOpenAI
from tests.image_samples import data_uri, png_bytes
from tests.test_vision_api import TEXT, VISION, vision_client  # noqa: F401

pytestmark = pytest.mark.usefixtures("vision_client")


def play(client: httpx.Client, images: list[str]) -> dict[str, Any]:
    r = client.post("/api/battles", json={"prompt": "hello there", "images": images})
    assert r.status_code == 201, r.text
    battle = r.json()["battle_id"]
    read_events(client, f"/api/battles/{battle}/stream")
    r = client.post(f"/api/battles/{battle}/vote", json={"winner": "model_a"})
    assert r.status_code == 200, r.text
    return dict(r.json())


def board(client: httpx.Client, total: int, **params: str) -> dict[str, Any]:
    """The board once it counts `total` battles (the refresher catches up within seconds)."""
    deadline = time.monotonic() + 10
    while True:
        data: dict[str, Any] = client.get("/api/leaderboard", params=params).json()
        if data["total_battles"] == total or time.monotonic() > deadline:
            return data
        time.sleep(0.2)


def test_boards_are_separate(vision_client: httpx.Client, fake: FakeOpenAI) -> None:  # noqa: F811
    image = data_uri(png_bytes())
    vision_pairs = [play(vision_client, [image]) for _ in range(3)]
    text_pairs = [play(vision_client, []) for _ in range(4)]
    vision = board(vision_client, 3, modality="vision")
    assert vision["total_battles"] == 3 and vision["modality"] == "vision"
    assert {m["model"] for m in vision["models"]} == set(VISION)
    text = board(vision_client, 4)
    assert text["total_battles"] == 4 and text["modality"] == "text"
    in_text = {n for p in text_pairs for n in (p["model_a"], p["model_b"])}
    assert {m["model"] for m in text["models"]} == in_text
    assert all(p["model_a"] in VISION for p in vision_pairs)
    assert vision_client.get("/api/leaderboard", params={"modality": "audio"}).status_code == 422
    csv = vision_client.get("/leaderboard.csv", params={"modality": "vision"}).text
    assert all(name in csv for name in VISION) and not any(name in csv for name in TEXT)
    page = vision_client.get("/leaderboard", params={"modality": "vision"}).text
    assert 'value="vision" checked' in page and "3 vision battles" in page
    styled = board(vision_client, 3, modality="vision", style_control="true")
    assert styled["style_control"] is True and styled["total_battles"] == 3
    json.dumps(styled)
