"""Helpers for the admin tests: the bearer header, logging a browser-like client in, votes."""

from __future__ import annotations

import re

import httpx

from tests.conftest import read_events

TOKEN = "test-admin-token-0123"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
CSRF_FIELD = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_in(html: str) -> str:
    """The CSRF token a page's forms carry."""
    match = CSRF_FIELD.search(html)
    assert match, "no csrf_token field in the page"
    return match.group(1)


def login(client: httpx.Client, token: str = TOKEN) -> str:
    """Log in through the form; returns the admin CSRF token of the session."""
    form = client.get("/admin/login")
    assert form.status_code == 200, form.text
    r = client.post(
        "/admin/login", data={"csrf_token": csrf_in(form.text), "token": token, "next": "/admin"}
    )
    assert r.status_code == 303, r.text
    page = client.get("/admin")
    assert page.status_code == 200, page.text
    return csrf_in(page.text)


def htmx(csrf: str) -> dict[str, str]:
    """Headers of an htmx request from an admin page."""
    return {"HX-Request": "true", "X-CSRF-Token": csrf}


def play(client: httpx.Client, winner: str = "model_a", prompt: str = "What is 2+2?") -> str:
    """A whole battle with a vote; returns its id."""
    r = client.post("/api/battles", json={"prompt": prompt})
    assert r.status_code == 201, r.text
    battle = str(r.json()["battle_id"])
    read_events(client, f"/api/battles/{battle}/stream")
    r = client.post(f"/api/battles/{battle}/vote", json={"winner": winner})
    assert r.status_code == 200, r.text
    return battle
