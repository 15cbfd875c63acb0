"""Who may use the admin: bearer token (API), login form and session cookie (pages), CSRF."""

from __future__ import annotations

import re

import httpx
import pytest

from arena.admin.auth import AdminSessions, bearer, token_matches
from tests.admin_client import AUTH, TOKEN, csrf_in, htmx, login
from tests.conftest import ArenaServer


def test_api_without_or_with_a_wrong_token_is_401(shared_client: httpx.Client) -> None:
    client = shared_client
    r = client.get("/api/admin/models")
    assert r.status_code == 401
    assert "Authorization: Bearer" in r.json()["detail"]
    assert r.headers["www-authenticate"].startswith("Bearer")
    for header in ("Bearer wrong-token-0123456789", "Basic " + TOKEN, TOKEN, "Bearer"):
        r = client.get("/api/admin/models", headers={"Authorization": header})
        assert r.status_code == 401, header
    # Every admin route is closed, not only the listing.
    assert client.post("/api/admin/models", json={"name": "x"}).status_code == 401
    assert client.get("/api/admin/battles.jsonl").status_code == 401
    assert client.get("/api/admin/votes").status_code == 401
    assert client.get("/api/admin/models", headers=AUTH).status_code == 200


def test_pages_send_a_stranger_to_the_login_form(shared_client: httpx.Client) -> None:
    client = shared_client
    for path in ("/admin", "/admin/votes", "/admin/models/alpha", "/admin/export.jsonl"):
        r = client.get(path)
        assert r.status_code == 303, path
        assert r.headers["location"].startswith("/admin/login?next=")
    page = client.get("/admin", follow_redirects=True)
    assert page.url.path == "/admin/login"
    assert 'name="token"' in page.text and 'type="password"' in page.text
    # htmx gets a redirect header instead of a page to swap in.
    r = client.post("/admin/models/alpha/disable", headers={"HX-Request": "true"})
    assert r.status_code == 401 and r.headers["hx-redirect"].startswith("/admin/login")


def test_login_with_a_wrong_token_is_refused(shared_client: httpx.Client) -> None:
    client = shared_client
    form = client.get("/admin/login")
    r = client.post(
        "/admin/login", data={"csrf_token": csrf_in(form.text), "token": "not-the-token-000000"}
    )
    assert r.status_code == 401
    assert "not the admin token" in r.text
    assert "arena_admin" not in r.headers.get("set-cookie", "")
    assert client.get("/admin").status_code == 303


def test_cookie_login_and_logout(shared_client: httpx.Client) -> None:
    client = shared_client
    form = client.get("/admin/login?next=/admin/votes")
    r = client.post(
        "/admin/login",
        data={"csrf_token": csrf_in(form.text), "token": TOKEN, "next": "/admin/votes"},
    )
    assert r.status_code == 303 and r.headers["location"] == "/admin/votes"
    cookie = r.headers["set-cookie"]
    assert cookie.startswith("arena_admin=")
    assert "HttpOnly" in cookie and re.search(r"SameSite=strict", cookie, re.I)
    assert "Path=/admin" in cookie
    assert TOKEN not in cookie
    page = client.get("/admin")
    assert page.status_code == 200 and "Models" in page.text
    # The session works for pages only: the API still wants the bearer token.
    assert client.get("/api/admin/models").status_code == 401

    r = client.post("/admin/logout", data={"csrf_token": csrf_in(page.text)})
    assert r.status_code == 303 and r.headers["location"] == "/admin/login"
    assert client.get("/admin").status_code == 303


def test_login_never_redirects_off_site(shared_client: httpx.Client) -> None:
    client = shared_client
    form = client.get("/admin/login")
    for target in ("https://evil.example/admin", "//evil.example/admin", "/elsewhere"):
        client.cookies.delete("arena_admin")
        r = client.post(
            "/admin/login",
            data={"csrf_token": csrf_in(form.text), "token": TOKEN, "next": target},
        )
        assert r.headers["location"] == "/admin", target


def test_forged_or_foreign_session_cookies_are_refused(shared_client: httpx.Client) -> None:
    client = shared_client
    client.cookies.set("arena_admin", "forged.cookie.value", path="/admin")
    assert client.get("/admin").status_code == 303
    other = AdminSessions("another-secret-0123456789abcdef0123456", TOKEN)
    client.cookies.set("arena_admin", other.issue(), path="/admin")
    assert client.get("/admin").status_code == 303


def test_csrf_refusal(client: httpx.Client) -> None:
    csrf = login(client)
    # No token, a wrong token, a cross-site origin: refused, and nothing changes.
    for headers, data in (
        ({}, {}),
        ({}, {"csrf_token": "0" * 64}),
        ({"X-CSRF-Token": "f" * 64, "HX-Request": "true"}, {}),
        ({"Origin": "https://evil.example", **htmx(csrf)}, {}),
    ):
        r = client.post("/admin/models/alpha/disable", headers=headers, data=data)
        assert r.status_code == 403, (headers, data)
    state = client.get("/api/admin/models/alpha", headers=AUTH).json()
    assert state["enabled"] is True
    # The login form itself is CSRF-protected (with the visitor's token).
    client.cookies.delete("arena_admin")
    assert client.post("/admin/login", data={"token": TOKEN}).status_code == 403
    # A right token works.
    csrf = login(client)
    r = client.post("/admin/models/alpha/disable", data={"csrf_token": csrf})
    assert r.status_code == 303
    assert client.get("/api/admin/models/alpha", headers=AUTH).json()["enabled"] is False


def test_admin_off_without_a_token(arena_server: ArenaServer) -> None:
    with arena_server(admin_token=None) as srv, srv.client() as c:
        page = c.get("/admin")
        assert page.status_code == 403
        assert "ARENA_ADMIN_TOKEN" in page.text and "16 characters" in page.text
        assert c.get("/admin/login").status_code == 403
        for r in (
            c.get("/api/admin/models"),
            c.get("/api/admin/models", headers=AUTH),
            c.post("/api/admin/models", headers=AUTH, json={}),
        ):
            assert r.status_code == 403
            assert "ARENA_ADMIN_TOKEN" in r.json()["detail"]
            assert "16 characters" in r.json()["detail"]


def test_token_helpers() -> None:
    assert token_matches(TOKEN, TOKEN)
    assert not token_matches(TOKEN, TOKEN + "x")
    assert not token_matches(TOKEN, None) and not token_matches(None, TOKEN)
    assert bearer("Bearer abc") == "abc" and bearer("bearer abc") == "abc"
    assert bearer("Basic abc") is None and bearer(None) is None and bearer("Bearer") is None


def test_a_new_admin_token_signs_every_session_out() -> None:
    secret = "s" * 40
    old = AdminSessions(secret, TOKEN)
    cookie = old.issue()
    session_id = old.load(cookie)
    assert session_id is not None
    assert AdminSessions(secret, "another-admin-token-456").load(cookie) is None
    assert old.check_csrf(session_id, old.csrf_token(session_id))
    assert not old.check_csrf(session_id, old.csrf_token("someone-else"))
    assert not old.check_csrf(session_id, None)


@pytest.mark.parametrize("path", ["/admin/models/new", "/admin/votes", "/admin/models/alpha"])
def test_pages_carry_the_session_csrf_token(shared_client: httpx.Client, path: str) -> None:
    client = shared_client
    csrf = login(client)
    page = client.get(path)
    assert page.status_code == 200
    assert csrf_in(page.text) == csrf
    assert f'"X-CSRF-Token": "{csrf}"' in page.text
