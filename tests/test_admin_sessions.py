"""Admin hardening: server-side sessions (logout, log out everywhere), the admin token rotated
without a restart (API, pages, CLI), and the per-IP limit on wrong tokens that workers share."""

from __future__ import annotations

import contextlib
import io
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from arena.cli.main import main as cli
from arena.web.app import create_app
from tests.admin_client import AUTH, TOKEN, csrf_in, login
from tests.conftest import ArenaServer, arena_settings
from tests.fake_openai import FakeOpenAI
from tests.inproc import InProcessArena


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def signed_in(client: httpx.Client) -> bool:
    return client.get("/admin").status_code == 200


def test_logout_revokes_the_session_on_the_server(arena_server: ArenaServer) -> None:
    with arena_server() as srv, srv.client() as browser:
        csrf = login(browser)
        stolen = dict(browser.cookies)  # a copy of the cookie, as a thief would keep it
        r = browser.post("/admin/logout", data={"csrf_token": csrf})
        assert r.status_code == 303 and r.headers["location"] == "/admin/login"
        with srv.client(cookies=stolen) as thief:
            assert not signed_in(thief)


def test_log_out_everywhere_from_a_page_and_from_the_api(arena_server: ArenaServer) -> None:
    with arena_server() as srv, srv.client() as one, srv.client() as two:
        csrf = login(one)
        login(two)
        assert "Log out everywhere" in one.get("/admin").text
        r = one.post("/admin/logout-everywhere", data={"csrf_token": csrf})
        assert r.status_code == 303
        assert not signed_in(one) and not signed_in(two)
        login(one)
        login(two)
        with srv.client() as api:
            assert api.post("/api/admin/sessions/revoke").status_code == 401
            r = api.post("/api/admin/sessions/revoke", headers=AUTH)
            assert r.status_code == 200 and r.json() == {"revoked": 2}
        assert not signed_in(one) and not signed_in(two)


@contextlib.contextmanager
def two_workers(
    tmp_path: Path, fake: FakeOpenAI, database_url: str, token: str = TOKEN, **overrides: object
) -> Iterator[tuple[InProcessArena, InProcessArena]]:
    """Two apps on one database, as two worker processes would be."""
    settings = arena_settings(
        tmp_path, fake.base_url, database_url=database_url, admin_token=token, **overrides
    )
    with InProcessArena(create_app(settings)) as a, InProcessArena(create_app(settings)) as b:
        yield a, b


def test_rotating_the_token_through_the_api_reaches_every_worker(
    tmp_path: Path, fake: FakeOpenAI, database_url: str
) -> None:
    with two_workers(tmp_path, fake, database_url) as (a, b), a.client() as api, b.client() as page:
        login(page)
        r = api.post("/api/admin/token/rotate", headers=AUTH)
        assert r.status_code == 200
        new = r.json()["token"]
        assert len(new) >= 32 and new != TOKEN
        for worker in (a, b):
            with worker.client() as c:
                assert c.get("/api/admin/models", headers=AUTH).status_code == 401
                assert c.get("/api/admin/models", headers=bearer(new)).status_code == 200
        assert not signed_in(page)  # the sessions ended with the old token
        login(page, token=new)
    # The same environment token after a restart: the rotated token stays in force.
    with two_workers(tmp_path, fake, database_url) as (a, _), a.client() as c:
        assert c.get("/api/admin/models", headers=AUTH).status_code == 401
        assert c.get("/api/admin/models", headers=bearer(new)).status_code == 200
    # A new ARENA_ADMIN_TOKEN and a restart: that one is in force (the way back).
    other = "another-admin-token-4567"
    with two_workers(tmp_path, fake, database_url, token=other) as (a, _), a.client() as c:
        assert c.get("/api/admin/models", headers=bearer(new)).status_code == 401
        assert c.get("/api/admin/models", headers=bearer(other)).status_code == 200


def test_rotating_the_token_from_the_admin_page(arena_server: ArenaServer) -> None:
    with arena_server() as srv, srv.client() as browser:
        csrf = login(browser)
        r = browser.post("/admin/token", data={"csrf_token": csrf})
        assert r.status_code == 200 and r.headers["cache-control"] == "no-store"
        new = r.text.split('<code id="new-token">')[1].split("</code>")[0]
        assert not signed_in(browser)
        with srv.client() as api:
            assert api.get("/api/admin/models", headers=bearer(new)).status_code == 200
        login(browser, token=new)


def test_rotating_the_token_from_the_cli(
    tmp_path: Path, fake: FakeOpenAI, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ARENA_DATABASE_URL", database_url)
    monkeypatch.setenv("ARENA_CONFIG", str(tmp_path / "none.toml"))
    monkeypatch.delenv("ARENA_ADMIN_TOKEN", raising=False)
    with two_workers(tmp_path, fake, database_url) as (a, _), a.client() as c:
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            assert cli(["admin", "rotate-token"]) == 0
        new = out.getvalue().splitlines()[0]
        assert c.get("/api/admin/models", headers=AUTH).status_code == 401
        assert c.get("/api/admin/models", headers=bearer(new)).status_code == 200
        with contextlib.redirect_stdout(io.StringIO()):
            assert cli(["admin", "logout-everywhere"]) == 0


def test_wrong_tokens_are_limited_per_ip_across_workers(
    tmp_path: Path, fake: FakeOpenAI, database_url: str
) -> None:
    with (
        two_workers(
            tmp_path,
            fake,
            database_url,
            admin_login_attempts=3,
            trusted_proxy_headers=["X-Forwarded-For"],
        ) as (a, b),
        a.client() as one,
        b.client() as two,
    ):
        form = one.get("/admin/login")
        wrong = {"csrf_token": csrf_in(form.text), "token": "not-the-token-0000", "next": "/admin"}
        assert one.post("/admin/login", data=wrong).status_code == 401
        assert two.get("/api/admin/models", headers=bearer("wrong-token-00000")).status_code == 401
        assert one.post("/admin/login", data=wrong).status_code == 401
        # The limit is reached on both workers: even the right token is refused for a while.
        r = two.get("/api/admin/models", headers=AUTH)
        assert r.status_code == 429 and int(r.headers["retry-after"]) > 0
        right = {**wrong, "token": TOKEN}
        r = one.post("/admin/login", data=right)
        assert r.status_code == 429 and "Too many wrong admin tokens" in r.text
        # A request without any token is not a guess, and another address is not limited.
        assert two.get("/api/admin/models").status_code == 401
        elsewhere = {**AUTH, "X-Forwarded-For": "203.0.113.9"}
        assert two.get("/api/admin/models", headers=elsewhere).status_code == 200
    with (
        two_workers(tmp_path, fake, database_url, admin_login_attempts=3) as (a, _),
        a.client() as c,
    ):
        assert c.get("/api/admin/models", headers=AUTH).status_code == 429  # shared, stored
