"""No API key ever leaves the arena: every response of a whole admin session is searched for one."""

from __future__ import annotations

import logging

import httpx
import pytest
from sqlmodel import Session, col, select

from arena.store.engine import make_engine
from arena.store.tables import Endpoint
from tests.admin_client import AUTH, TOKEN, csrf_in, htmx, play
from tests.conftest import ArenaServer
from tests.fake_openai import Behavior, FakeOpenAI

TYPED = "sk-test-SECRET-123456"
ENV_KEY = "sk-env-SECRET-abcdef987"
ENV = "TEST_SECRET_VAR_KEY"


class Recorder:
    """An httpx client that keeps every response (status line, headers, body)."""

    def __init__(self, client: httpx.Client) -> None:
        self.client = client
        self.seen: list[str] = []
        client.event_hooks["response"] = [self._keep]

    def _keep(self, response: httpx.Response) -> None:
        response.read()
        headers = "\n".join(f"{k}: {v}" for k, v in response.headers.multi_items())
        self.seen.append(
            f"{response.request.method} {response.request.url} "
            f"{response.status_code}\n{headers}\n{response.text}"
        )


def test_no_response_log_or_export_contains_an_api_key(
    arena_server: ArenaServer,
    fake: FakeOpenAI,
    database_url: str,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    monkeypatch.setenv(ENV, ENV_KEY)
    fake.set_behavior("upstream-typed", Behavior(require_api_key=TYPED))
    fake.set_behavior("upstream-env", Behavior(require_api_key=ENV_KEY))
    with arena_server() as srv, srv.client() as c:
        rec = Recorder(c)
        # Log in through the form.
        form = c.get("/admin/login")
        c.post("/admin/login", data={"csrf_token": csrf_in(form.text), "token": TOKEN})
        csrf = csrf_in(c.get("/admin").text)
        # Type a key into the add form (a refused attempt first, then the real one).
        c.get("/admin/models/new?preset=openai")
        bad = {
            "csrf_token": csrf,
            "name": "typed",
            "base_url": "nope",
            "model": "upstream-typed",
            "api_key": TYPED,
            "enabled": "on",
        }
        assert c.post("/admin/models", data=bad).status_code == 422
        assert c.post("/admin/models", headers=htmx(csrf), data=bad).status_code == 422
        good = {**bad, "base_url": fake.base_url, "weight": "0"}
        assert c.post("/admin/models", data=good).status_code == 303
        # A model whose key is in an environment variable, added through the API.
        r = c.post(
            "/api/admin/models",
            headers=AUTH,
            json={
                "name": "env",
                "base_url": fake.base_url,
                "model": "upstream-env",
                "api_key_env": ENV,
                "weight": 0,
            },
        )
        assert r.status_code == 201
        # A provider that quotes the key back in an error: the breaker keeps its words.
        engine = make_engine(database_url)
        with Session(engine) as session:
            query = select(Endpoint).where(col(Endpoint.name).in_(["typed", "env"]))
            for row in session.exec(query):
                row.last_error = f"auth: HTTP 401: bad key {TYPED} / {ENV_KEY}"
                row.consecutive_failures = 1
                session.add(row)
            session.commit()
        engine.dispose()

        for name in ("typed", "env"):
            assert c.post(f"/admin/models/{name}/test", headers=htmx(csrf)).status_code == 200
            assert c.post(f"/api/admin/models/{name}/test", headers=AUTH).json()["ok"] is True
            c.post(f"/admin/models/{name}/test", data={"csrf_token": csrf})
            c.get(f"/admin/models/{name}")
            c.get(f"/api/admin/models/{name}", headers=AUTH)
            c.post(f"/admin/models/{name}/disable", headers={**htmx(csrf), "HX-Target": "row-1"})
            c.post(
                f"/admin/models/{name}/unpause", headers={**htmx(csrf), "HX-Target": "model-status"}
            )
            c.post(f"/api/admin/models/{name}/unpause", headers=AUTH)
        # Edit the typed model: a wrong key, then the right one again; the forms come back.
        edit = {
            "csrf_token": csrf,
            "base_url": fake.base_url,
            "model": "upstream-typed",
            "weight": "-1",
            "api_key": TYPED,
        }
        assert c.post("/admin/models/typed", data=edit).status_code == 422
        assert c.post("/admin/models/typed", headers=htmx(csrf), data=edit).status_code == 422
        assert (
            c.post(
                "/admin/models/typed", headers=htmx(csrf), data={**edit, "weight": "0"}
            ).status_code
            == 200
        )
        c.patch("/api/admin/models/typed", headers=AUTH, json={"api_key": TYPED, "weight": -3})
        c.patch("/api/admin/models/typed", headers=AUTH, json={"api_key": TYPED})
        c.post(
            "/api/admin/models",
            headers=AUTH,
            json={"name": "typed", "base_url": fake.base_url, "model": "m", "api_key": TYPED},
        )

        # Votes, review, export.
        with srv.client() as voter:
            battle = play(voter)
        c.get("/admin")
        c.get("/admin/votes")
        c.post(f"/admin/votes/{battle}/exclude", headers=htmx(csrf), data={"reason": TYPED[:3]})
        c.get("/admin/export.jsonl")
        for path in (
            "/api/admin/models",
            "/api/admin/votes",
            "/api/admin/presets",
            "/api/admin/battles.jsonl",
            f"/api/admin/votes/{battle}",
        ):
            assert c.get(path, headers=AUTH).status_code == 200
        c.delete("/api/admin/models/typed", headers=AUTH)
        c.post("/admin/logout", data={"csrf_token": csrf})

        assert len(rec.seen) > 40
        everything = "\n".join(rec.seen)
        assert "••••3456" in everything  # the typed key, masked
        assert "••••f987" in everything  # the env key as the breaker quoted it, masked
        assert TYPED not in everything
        assert ENV_KEY not in everything
        # The upstream did get the keys.
        sent = {r.authorization for r in fake.chat_requests}
        assert f"Bearer {TYPED}" in sent and f"Bearer {ENV_KEY}" in sent
    assert TYPED not in caplog.text and ENV_KEY not in caplog.text
    engine = make_engine(database_url)
    with Session(engine) as session:
        stored = [e.api_key_encrypted or "" for e in session.exec(select(Endpoint))]
    engine.dispose()
    assert not any(TYPED in s for s in stored)
