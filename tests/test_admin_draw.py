"""The admin list shows each model's chance of being drawn next; typed keys reach the upstream."""

from __future__ import annotations

import re
from typing import Any

import httpx

from tests.conftest import MODELS, read_events
from tests.fake_openai import Behavior, FakeOpenAI

TOKEN = {"Authorization": "Bearer test-admin-token-0123"}


def login(c: httpx.Client) -> None:
    page = c.get("/admin/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert token, page.text
    r = c.post(
        "/admin/login", data={"token": "test-admin-token-0123", "csrf_token": token.group(1)}
    )
    assert r.status_code in (200, 303), r.text


def test_draw_probabilities_on_the_admin_page(arena_server: Any, fake: FakeOpenAI) -> None:
    with arena_server() as srv, srv.client() as c:
        added = c.post(
            "/api/admin/models",
            headers=TOKEN,
            json={
                "name": "gamma",
                "base_url": fake.base_url,
                "model": "upstream-gamma",
                "weight": 2.0,
            },
        )
        assert added.status_code == 201, added.text
        login(c)
        html = c.get("/admin").text
        shares = dict(
            re.findall(
                r'<a href="/admin/models/(\w+)">.*?<td data-label="Drawn now" class="num draw">'
                r"([\d.]+)%</td>",
                html,
                re.S,
            )
        )
        # Weights 1, 1, 2: pairs ∝ 1·1, 1·2, 1·2 → P(gamma) = 4/5, P(alpha) = P(beta) = 3/5.
        assert shares == {"alpha": "60.0", "beta": "60.0", "gamma": "80.0"}


def test_a_key_typed_in_the_admin_reaches_the_upstream(arena_server: Any, fake: FakeOpenAI) -> None:
    fake.set_behavior(MODELS["alpha"], Behavior(require_api_key="sk-typed-secret-123456"))
    fake.set_behavior(MODELS["beta"], Behavior(require_api_key="sk-typed-secret-123456"))
    with arena_server() as srv, srv.client() as c:
        for name in MODELS:
            r = c.patch(
                f"/api/admin/models/{name}",
                headers=TOKEN,
                json={"api_key": "sk-typed-secret-123456"},
            )
            assert r.status_code == 200, r.text
            assert "sk-typed-secret-123456" not in r.text
        battle = c.post("/api/battles", json={"prompt": "hi"}).json()["battle_id"]
        assert read_events(c, f"/api/battles/{battle}/stream")[-1][1] == '{"status": "ready"}'
    keys = {r.api_key for r in fake.chat_requests}
    assert keys == {"sk-typed-secret-123456"}
