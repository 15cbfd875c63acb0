"""The API and its schema agree on the edges: errors, media types, days, sizes, the admin's door."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from arena.core.settings import Settings
from arena.web.app import create_app
from tests.admin_client import AUTH


@pytest.fixture
def api(make_settings: Callable[..., Settings]) -> Iterator[TestClient]:
    """The app in-process, its lifespan started."""
    with TestClient(create_app(make_settings())) as c:
        yield c


def operation(schema: dict[str, Any], method: str, path: str) -> dict[str, Any]:
    """One operation of the OpenAPI document."""
    op: dict[str, Any] = schema["paths"][path][method]
    return op


def test_refusals_are_documented_in_the_shape_they_are_sent(api: TestClient) -> None:
    schema = api.get("/openapi.json").json()
    create = operation(schema, "post", "/api/battles")
    assert {"400", "409", "413", "415", "422", "429"} <= set(create["responses"])
    # A 422 is a sentence from our checks or FastAPI's list; the schema admits both.
    r = api.post("/api/battles", json={"prompt": " "})
    assert r.status_code == 422 and isinstance(r.json()["detail"], str)
    r = api.post("/api/battles", json={})
    assert r.status_code == 422 and isinstance(r.json()["detail"], list)
    ref = create["responses"]["422"]["content"]["application/json"]["schema"]["$ref"]
    detail = schema["components"]["schemas"][ref.rsplit("/", 1)[1]]["properties"]["detail"]
    assert {"type": "string"} in detail["anyOf"]
    assert any(t.get("type") == "array" for t in detail["anyOf"])
    vote = operation(schema, "post", "/api/battles/{battle_id}/vote")
    assert {"403", "404", "409"} <= set(vote["responses"])
    admin = operation(schema, "post", "/api/admin/models")
    assert {"401", "403", "409", "413", "422"} <= set(admin["responses"])


def test_non_json_bodies_are_documented_with_their_media_types(api: TestClient) -> None:
    schema = api.get("/openapi.json").json()
    board = operation(schema, "get", "/api/leaderboard")["responses"]["200"]["content"]
    assert {"application/json", "text/csv", "text/markdown"} <= set(board)
    export = operation(schema, "get", "/api/admin/battles.jsonl")["responses"]["200"]["content"]
    assert set(export) == {"application/x-ndjson"}
    stream = operation(schema, "get", "/api/battles/{battle_id}/stream")["responses"]["200"]
    assert set(stream["content"]) == {"text/event-stream"}
    r = api.get("/api/leaderboard?format=csv")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")


@pytest.mark.parametrize("day", ["0", "1700000000", "31.01.2025", "2025-1-3"])
def test_a_vote_filter_day_is_a_day(api: TestClient, day: str) -> None:
    """`until=0` once meant 1970-01-01: pydantic reads a number as a Unix time."""
    for param in ("since", "until"):
        r = api.get(f"/api/admin/votes?{param}={day}", headers=AUTH)
        assert r.status_code == 422, (param, day, r.text)
        assert r.json()["detail"][0]["loc"] == ["query", param]
    assert api.get("/api/admin/votes?since=2025-01-01&until=2025-01-31", headers=AUTH).is_success


MIB = 1024 * 1024


def post_streamed(
    api: TestClient, path: str, headers: dict[str, str], total: int
) -> tuple[int, dict[str, Any], int]:
    """POST `total` bytes in 1 MiB chunks straight into the app; (status, body, bytes it read)."""
    consumed = 0
    messages: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        nonlocal consumed
        if consumed >= total:
            return {"type": "http.disconnect"}
        consumed += MIB
        return {"type": "http.request", "body": b"x" * MIB, "more_body": consumed < total}

    async def send(message: dict[str, Any]) -> None:
        messages.append(message)

    raw = [(k.lower().encode(), v.encode()) for k, v in headers.items()]
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "query_string": b"",
        "headers": [(b"host", b"testserver"), (b"content-type", b"application/json"), *raw],
        "client": ("127.0.0.1", 50000),
        "server": ("testserver", 80),
    }
    assert api.portal is not None
    api.portal.call(api.app, scope, receive, send)
    start = next(m for m in messages if m["type"] == "http.response.start")
    body = b"".join(m.get("body", b"") for m in messages if m["type"] == "http.response.body")
    return start["status"], json.loads(body), consumed


def test_a_strangers_upload_is_refused_unread(api: TestClient) -> None:
    """50 MB to the admin API without a token: 401, and not one chunk of it read."""
    status, body, consumed = post_streamed(api, "/api/admin/models", {}, 50 * MIB)
    assert status == 401 and "Bearer" in body["detail"]
    assert consumed == 0
    wrong = {"Authorization": "Bearer not-the-token-0000"}
    status, _, consumed = post_streamed(api, "/api/admin/models", wrong, 50 * MIB)
    assert (status, consumed) == (401, 0)


def test_a_body_past_the_limit_is_refused_as_it_arrives(api: TestClient) -> None:
    """With a token, chunked: read up to the limit (2 MiB by default), then 413."""
    status, body, consumed = post_streamed(api, "/api/admin/models", AUTH, 50 * MIB)
    assert status == 413 and "larger than" in body["detail"]
    assert consumed <= 3 * MIB
    # The voter API too, and a declared Content-Length is refused before a byte is read.
    status, _, consumed = post_streamed(api, "/api/battles/x/vote", {}, 50 * MIB)
    assert status == 413 and consumed <= 3 * MIB
    # The routes that take images read up to max_image_request_bytes (28 MiB by default).
    status, _, consumed = post_streamed(api, "/api/battles", {}, 50 * MIB)
    assert status == 413 and 27 * MIB <= consumed <= 30 * MIB
    status, _, consumed = post_streamed(
        api, "/api/battles", {"Content-Length": str(50 * MIB)}, 50 * MIB
    )
    assert (status, consumed) == (413, 0)


def test_the_limit_is_a_setting(make_settings: Callable[..., Settings]) -> None:
    with TestClient(create_app(make_settings(max_request_bytes=4096))) as api:
        r = api.post("/api/battles/x/vote", json={"winner": "x" * 5000})
        assert r.status_code == 413
    settings = make_settings(max_request_bytes=4096, max_image_request_bytes=8192)
    with TestClient(create_app(settings)) as api:
        assert api.post("/api/battles", json={"prompt": "x" * 5000}).status_code == 201
        r = api.post("/api/battles", json={"prompt": "x", "images": ["x" * 9000]})
        assert r.status_code == 413
        assert r.headers["content-type"] == "application/json"
        assert r.headers["x-content-type-options"] == "nosniff"
        assert api.post("/api/battles", json={"prompt": "hello"}).status_code == 201


NUL_BODIES = [
    {"name": "nul\u0000name", "base_url": "http://127.0.0.1:9/v1", "model": "m"},
    {"name": "ok-name", "base_url": "http://127.0.0.1:9/v1", "model": "m\u0000"},
    {
        "name": "ok-name",
        "base_url": "http://127.0.0.1:9/v1",
        "model": "m",
        "system_prompt": "\u0000",
    },
    {
        "name": "ok",
        "base_url": "http://127.0.0.1:9/v1",
        "model": "m",
        "extra_body": {"k": "\u0000"},
    },
]


@pytest.mark.parametrize("body", NUL_BODIES)
def test_a_nul_in_an_admin_field_is_a_clear_422(api: TestClient, body: dict[str, Any]) -> None:
    """PostgreSQL cannot store U+0000 in text: it once answered 503 'database not available'."""
    r = api.post("/api/admin/models", json=body, headers=AUTH)
    assert r.status_code == 422, r.text
    assert "NUL" in r.text
    change = {k: v for k, v in body.items() if k != "name"}
    if "\u0000" in json.dumps(change, ensure_ascii=False):
        r = api.patch("/api/admin/models/alpha", json=change, headers=AUTH)
        assert r.status_code == 422, r.text
    assert [m["name"] for m in api.get("/api/admin/models", headers=AUTH).json()] == [
        "alpha",
        "beta",
    ]


@pytest.mark.parametrize(
    "path", ["/api/admin/models/a%00b", "/api/admin/votes?model=a%00b", "/api/battles/a%00b"]
)
def test_a_nul_in_a_path_or_query_is_a_clear_422(api: TestClient, path: str) -> None:
    headers = AUTH if path.startswith("/api/admin") else {}
    r = api.get(path, headers=headers)
    assert r.status_code == 422, r.text
    assert "NUL" in r.json()["detail"]


def test_the_csp_allows_only_the_pinned_script_files(api: TestClient) -> None:
    from arena.web.assets import SCRIPTS

    csp = api.get("/leaderboard").headers["content-security-policy"]
    script_src = next(d for d in csp.split(";") if d.strip().startswith("script-src")).split()[1:]
    assert script_src == ["'self'", *(s.cdn_url for s in SCRIPTS)]
    assert all(s.cdn_url.endswith(".js") and f"@{s.version}/" in s.cdn_url for s in SCRIPTS)
    assert "https://cdn.jsdelivr.net" not in script_src


def test_a_huge_offset_is_a_422_not_a_database_error(api: TestClient) -> None:
    """Found by schemathesis: a 34-digit offset crashed SQLite (500) and PostgreSQL (503)."""
    r = api.get("/api/admin/votes?offset=4912914047457438543170444959154176", headers=AUTH)
    assert r.status_code == 422, r.text
    assert api.get("/api/admin/votes?offset=1000000000", headers=AUTH).status_code == 200
