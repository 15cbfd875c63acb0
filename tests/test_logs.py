"""Request ids and logs: every response names its request, error pages show it, and a real
server's log lines (JSON, at DEBUG) hold no prompt text, API key, admin token or cookie."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import httpx
import pytest

from tests.admin_client import TOKEN, csrf_in
from tests.arena_process import ArenaProcess
from tests.conftest import ArenaServer, answers, read_events, write_models
from tests.fake_openai import FakeOpenAI


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    """The request id does not depend on the database."""
    return f"sqlite:///{tmp_path / 'arena.db'}"


def test_every_response_carries_a_request_id(arena_server: ArenaServer) -> None:
    with arena_server() as srv, srv.client() as client:
        first, second = client.get("/"), client.get("/api/leaderboard")
        ids = {first.headers["x-request-id"], second.headers["x-request-id"]}
        assert len(ids) == 2 and all(len(i) >= 16 for i in ids)
        sane = "nginx-4f2a9c0e1b7d"
        assert client.get("/", headers={"X-Request-ID": sane}).headers["x-request-id"] == sane
        for insane in ("short", "has spaces in it!", "x" * 65, "a\tb-cdefghij"):
            got = client.get("/", headers={"X-Request-ID": insane}).headers["x-request-id"]
            assert got != insane and len(got) >= 16
        # Refusals too, and an error page quotes its id.
        missing = client.get("/battles/0123456789abcdef0123456789abcdef")
        assert missing.status_code == 404
        assert f"<code>{missing.headers['x-request-id']}</code>" in missing.text
        assert client.post("/api/battles", json={"prompt": " "}).headers["x-request-id"]


def test_json_logs_hold_no_prompt_key_token_or_cookie(tmp_path: Path, fake: FakeOpenAI) -> None:
    prompt = "CANARY-PROMPT-7c1e how do tides work?"
    key = "sk-canary-key-5d2b9f00aa11"
    models = write_models(tmp_path / "models.toml", fake.base_url, api_key_env="CANARY_API_KEY")
    env = {
        "ARENA_DATABASE_URL": f"sqlite:///{tmp_path / 'arena.db'}",
        "ARENA_MODELS": str(models),
        "ARENA_CONFIG": str(tmp_path / "none.toml"),
        "ARENA_LOG_FORMAT": "json",
        "ARENA_ADMIN_TOKEN": TOKEN,
        "ARENA_SECRET_KEY": "log-test-secret-key-0123456789abcdef",
        "CANARY_API_KEY": key,
    }
    command = [sys.executable, "-m", "arena", "serve", "--log-level", "debug"]
    server = ArenaProcess(env, command=command)
    with server, httpx.Client(base_url=server.url, timeout=30) as client:
        battle = client.post("/api/battles", json={"prompt": prompt}).json()["battle_id"]
        assert "CANARY-PROMPT" in answers(read_events(client, f"/api/battles/{battle}/stream"))["a"]
        assert client.post(f"/api/battles/{battle}/vote", json={"winner": "tie"}).status_code == 200
        form = client.get("/admin/login")
        login = {"csrf_token": csrf_in(form.text), "token": TOKEN, "next": "/admin"}
        assert client.post("/admin/login", data=login).status_code == 303
        assert client.get("/admin").status_code == 200
        wrong = {"Authorization": "Bearer CANARY-WRONG-TOKEN-0000"}
        assert client.get("/api/admin/models", headers=wrong).status_code == 401
        cookies = [c.value for c in client.cookies.jar]
        log = server.log()
    assert len(cookies) >= 2  # the voter's and the admin's
    lines = [line for line in log.splitlines() if line.strip()]
    records = [json.loads(line) for line in lines]  # every line is one JSON object
    assert any(r["logger"] == "uvicorn.access" and r["request_id"] != "-" for r in records)
    assert any("/api/battles" in r["message"] for r in records)
    for secret in ("CANARY-PROMPT", "tides", key, TOKEN, "CANARY-WRONG", *cookies):
        assert secret not in log, secret
