"""Model endpoints through the admin API and pages: add, edit, enable, weight, retire, presets."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlmodel import Session, select

from arena.store.engine import make_engine
from arena.store.tables import Endpoint
from tests.admin_client import AUTH, htmx, login, play
from tests.conftest import ArenaServer, write_models
from tests.fake_openai import FakeOpenAI


def new_model(base_url: str, **fields: Any) -> dict[str, Any]:
    return {"name": "gamma", "model": "upstream-gamma", **{"base_url": base_url, **fields}}


def endpoints(database_url: str) -> dict[str, Endpoint]:
    engine = make_engine(database_url)
    try:
        with Session(engine) as session:
            return {e.name: e for e in session.exec(select(Endpoint)).all()}
    finally:
        engine.dispose()


def test_add_edit_disable_retire_through_the_api(
    client: httpx.Client, fake: FakeOpenAI, database_url: str
) -> None:
    r = client.post(
        "/api/admin/models",
        headers=AUTH,
        json=new_model(fake.base_url, weight=2.5, extra_body={"top_k": 20}, aliases=["Gamma"]),
    )
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["name"] == "gamma" and body["weight"] == 2.5 and body["state"] == "enabled"
    assert body["source"] == "api" and body["extra_body"] == {"top_k": 20}

    listed = client.get("/api/admin/models", headers=AUTH).json()
    assert [m["name"] for m in listed] == ["alpha", "beta", "gamma"]
    assert client.get("/api/admin/models/gamma", headers=AUTH).json()["weight"] == 2.5

    r = client.patch(
        "/api/admin/models/gamma",
        headers=AUTH,
        json={"weight": 0.5, "temperature": 0.3, "enabled": False},
    )
    assert r.status_code == 200, r.text
    assert r.json()["weight"] == 0.5 and r.json()["state"] == "disabled"
    # null clears an optional field.
    r = client.patch("/api/admin/models/gamma", headers=AUTH, json={"temperature": None})
    assert r.json()["temperature"] is None and r.json()["weight"] == 0.5
    row = endpoints(database_url)["gamma"]
    assert (row.weight, row.enabled, row.temperature) == (0.5, False, None)

    # No battles: DELETE deletes. alpha has one: DELETE retires and keeps it.
    r = client.delete("/api/admin/models/gamma", headers=AUTH)
    assert r.status_code == 200 and r.json()["result"] == "deleted"
    assert client.get("/api/admin/models/gamma", headers=AUTH).status_code == 404

    play(client)
    r = client.delete("/api/admin/models/alpha", headers=AUTH)
    assert r.status_code == 200 and r.json()["result"] == "retired"
    assert "retired" in r.json()["detail"]
    alpha = client.get("/api/admin/models/alpha", headers=AUTH).json()
    assert alpha["state"] == "retired" and alpha["retired"] is True
    assert alpha["votes"]["counted"] == 1
    # A retired model is never drawn: with one model left no battle can start.
    assert client.post("/api/battles", json={"prompt": "hi"}).status_code == 409
    r = client.patch("/api/admin/models/alpha", headers=AUTH, json={"retired": False})
    assert r.json()["state"] == "enabled"
    assert client.post("/api/battles", json={"prompt": "hi"}).status_code == 201


@pytest.mark.parametrize(
    ("fields", "status", "words"),
    [
        ({"name": "alpha"}, 409, "exists already"),
        ({"base_url": "not a url"}, 422, "base_url"),
        ({"base_url": "ftp://host/v1"}, 422, "http(s) URL"),
        ({"weight": -1}, 422, "weight"),
        ({"weight": "lots"}, 422, "weight"),
        ({"preset": "azure"}, 422, "unknown preset 'azure'"),
        ({"api_key_env": "NOT A NAME"}, 422, "api_key_env"),
        ({"model": ""}, 422, "model"),
        ({"colour": "red"}, 422, "colour: unknown field"),
        ({"extra_body": [1, 2]}, 422, "extra_body"),
        ({"thinking": True}, 422, "thinking"),
    ],
)
def test_bad_new_models_are_refused_and_nothing_is_saved(
    shared_client: httpx.Client,
    fake: FakeOpenAI,
    module_database_url: str,
    fields: dict[str, Any],
    status: int,
    words: str,
) -> None:
    client = shared_client
    r = client.post("/api/admin/models", headers=AUTH, json=new_model(fake.base_url) | fields)
    assert r.status_code == status, r.text
    assert words in r.json()["detail"]
    assert set(endpoints(module_database_url)) == {"alpha", "beta"}


@pytest.mark.parametrize(
    ("patch", "words"),
    [
        ({"weight": -0.5}, "weight"),
        ({"base_url": "http//missing-colon"}, "base_url"),
        ({"weight": None}, "weight"),
        ({"name": "renamed"}, "cannot be renamed"),
        ({"api_key_env": "1BAD"}, "api_key_env"),
        ({"model": None}, "model"),
    ],
)
def test_bad_edits_are_refused_and_nothing_is_saved(
    shared_client: httpx.Client, module_database_url: str, patch: dict[str, Any], words: str
) -> None:
    client = shared_client
    before = endpoints(module_database_url)["alpha"].model_dump()
    r = client.patch("/api/admin/models/alpha", headers=AUTH, json={"enabled": False, **patch})
    assert r.status_code == 422, r.text
    assert words in r.json()["detail"]
    assert endpoints(module_database_url)["alpha"].model_dump() == before


def test_unknown_models_are_404(shared_client: httpx.Client) -> None:
    client = shared_client
    for method, path in (
        ("GET", "/api/admin/models/nope"),
        ("PATCH", "/api/admin/models/nope"),
        ("DELETE", "/api/admin/models/nope"),
        ("POST", "/api/admin/models/nope/test"),
        ("POST", "/api/admin/models/nope/unpause"),
    ):
        r = client.request(method, path, headers=AUTH, json={} if method == "PATCH" else None)
        assert r.status_code == 404, (method, path)
        assert "no model named 'nope'" in r.json()["detail"]


def test_presets_fill_the_base_url_and_hints(client: httpx.Client) -> None:
    presets = {p["key"]: p for p in client.get("/api/admin/presets", headers=AUTH).json()}
    assert presets["modelstudio-singapore"]["base_url"] == (
        "https://dashscope-intl.aliyuncs.com/compatible-mode/v1"
    )
    assert presets["modelstudio-beijing"]["base_url"] == (
        "https://dashscope.aliyuncs.com/compatible-mode/v1"
    )
    assert presets["modelstudio-us"]["base_url"] == (
        "https://dashscope-us.aliyuncs.com/compatible-mode/v1"
    )
    assert presets["openai"]["base_url"] == "https://api.openai.com/v1"
    assert presets["vllm"]["base_url"] == "http://127.0.0.1:8000/v1"
    assert presets["ollama"]["base_url"] == "http://127.0.0.1:11434/v1"
    assert presets["llamacpp"]["base_url"] == "http://127.0.0.1:8080/v1"
    assert "enable_thinking" in presets["modelstudio-us"]["hint"]

    r = client.post(
        "/api/admin/models",
        headers=AUTH,
        json={
            "name": "qwen-plus-thinking",
            "preset": "modelstudio-singapore",
            "model": "qwen-plus",
            "thinking": True,
        },
    )
    assert r.status_code == 201, r.text
    m = r.json()
    assert m["base_url"] == "https://dashscope-intl.aliyuncs.com/compatible-mode/v1"
    assert m["api_key_env"] == "DASHSCOPE_API_KEY" and m["organization"] == "Alibaba Cloud"
    assert m["extra_body"] == {"enable_thinking": True}

    # What the request says wins over the preset.
    r = client.post(
        "/api/admin/models",
        headers=AUTH,
        json={
            "name": "my-vllm",
            "preset": "vllm",
            "model": "Qwen/Qwen3-8B",
            "thinking": False,
            "base_url": "http://127.0.0.1:8001/v1",
        },
    )
    assert r.status_code == 201, r.text
    assert r.json()["base_url"] == "http://127.0.0.1:8001/v1"
    assert r.json()["extra_body"] == {"chat_template_kwargs": {"enable_thinking": False}}


def test_unpause_lifts_the_circuit_breaker(client: httpx.Client, database_url: str) -> None:
    from datetime import timedelta

    from arena.store.tables import utcnow

    engine = make_engine(database_url)
    with Session(engine) as session:
        alpha = session.exec(select(Endpoint).where(Endpoint.name == "alpha")).one()
        alpha.paused_until, alpha.consecutive_failures = utcnow() + timedelta(minutes=5), 2
        alpha.last_error = "connection: connection refused"
        session.add(alpha)
        session.commit()
    engine.dispose()
    m = client.get("/api/admin/models/alpha", headers=AUTH).json()
    assert m["state"] == "paused" and m["breaker"]["paused"] is True
    assert m["breaker"]["consecutive_failures"] == 2
    assert m["breaker"]["last_error"] == "connection: connection refused"
    assert client.post("/api/battles", json={"prompt": "hi"}).status_code == 409

    r = client.post("/api/admin/models/alpha/unpause", headers=AUTH)
    assert r.status_code == 200
    assert r.json()["state"] == "enabled" and r.json()["breaker"]["paused_until"] is None
    assert r.json()["breaker"]["consecutive_failures"] == 0
    assert client.post("/api/battles", json={"prompt": "hi"}).status_code == 201


def test_the_models_file_seeds_and_edits_survive_a_restart(
    arena_server: ArenaServer, fake: FakeOpenAI, tmp_path: Path
) -> None:
    models = write_models(tmp_path / "models.toml", fake.base_url)
    with arena_server(models=models) as srv, srv.client() as c:
        r = c.patch("/api/admin/models/alpha", headers=AUTH, json={"weight": 3.0, "enabled": False})
        assert r.status_code == 200
    # The file changes alpha too and gains a model; the database keeps the edit, adds the new name.
    write_models(
        tmp_path / "models.toml",
        fake.base_url,
        {"alpha": "upstream-alpha-7b", "beta": "upstream-beta-13b", "delta": "up-delta"},
        weight=9.0,
    )
    with arena_server(models=models) as srv, srv.client() as c:
        by_name = {m["name"]: m for m in c.get("/api/admin/models", headers=AUTH).json()}
        assert set(by_name) == {"alpha", "beta", "delta"}
        assert by_name["alpha"]["weight"] == 3.0 and by_name["alpha"]["enabled"] is False
        assert by_name["beta"]["weight"] == 1.0  # already there: the file's new weight is ignored
        assert by_name["delta"]["weight"] == 9.0 and by_name["delta"]["source"] == "file"


# --- the pages --------------------------------------------------------------------------------


def test_add_edit_disable_retire_through_the_pages(
    client: httpx.Client, fake: FakeOpenAI, database_url: str
) -> None:
    csrf = login(client)
    form = client.get("/admin/models/new?preset=openai")
    assert form.status_code == 200
    assert 'value="https://api.openai.com/v1"' in form.text and "OPENAI_API_KEY" in form.text

    r = client.post(
        "/admin/models",
        data={
            "csrf_token": csrf,
            "name": "gamma",
            "base_url": fake.base_url,
            "model": "upstream-gamma",
            "weight": "2",
            "enabled": "on",
            "extra_body": '{"top_k": 5}',
            "aliases": "Gamma, G",
        },
    )
    assert r.status_code == 303 and r.headers["location"] == "/admin/models/gamma"
    gamma = endpoints(database_url)["gamma"]
    assert (gamma.weight, gamma.enabled, gamma.source) == (2.0, True, "ui")
    assert gamma.extra_body == {"top_k": 5} and gamma.aliases == ["Gamma", "G"]

    page = client.get("/admin/models/gamma")
    assert page.status_code == 200 and "upstream-gamma" in page.text

    # Edit with htmx: the form comes back, saved.
    r = client.post(
        "/admin/models/gamma",
        headers=htmx(csrf),
        data={
            "base_url": fake.base_url,
            "model": "upstream-gamma-v2",
            "weight": "0.5",
            "enabled": "on",
            "temperature": "0.7",
        },
    )
    assert r.status_code == 200 and "Saved." in r.text
    gamma = endpoints(database_url)["gamma"]
    assert (gamma.model, gamma.weight, gamma.temperature) == ("upstream-gamma-v2", 0.5, 0.7)
    assert gamma.extra_body == {}  # the form sent none: cleared

    # The weight, inline in the table.
    r = client.post(
        "/admin/models/gamma/weight",
        headers={**htmx(csrf), "HX-Target": "row-3"},
        data={"weight": "4"},
    )
    assert r.status_code == 200 and r.text.lstrip().startswith("<tr")
    assert endpoints(database_url)["gamma"].weight == 4.0

    r = client.post("/admin/models/gamma/disable", headers={**htmx(csrf), "HX-Target": "row-3"})
    assert r.status_code == 200 and 'data-state="disabled"' in r.text
    assert endpoints(database_url)["gamma"].enabled is False
    r = client.post("/admin/models/gamma/enable", data={"csrf_token": csrf})
    assert r.status_code == 303
    assert endpoints(database_url)["gamma"].enabled is True

    status_panel = {**htmx(csrf), "HX-Target": "model-status"}
    r = client.post("/admin/models/gamma/retire", headers=status_panel)
    assert r.status_code == 200 and "Restore" in r.text
    assert endpoints(database_url)["gamma"].retired is True
    listing = client.get("/admin")
    assert 'data-state="retired"' in listing.text
    r = client.post("/admin/models/gamma/restore", data={"csrf_token": csrf})
    assert endpoints(database_url)["gamma"].retired is False

    r = client.post("/admin/models/gamma/delete", data={"csrf_token": csrf})
    assert r.status_code == 303 and r.headers["location"] == "/admin"
    assert "gamma" not in endpoints(database_url)


@pytest.mark.parametrize(
    ("fields", "status", "words"),
    [
        ({"name": "alpha"}, 409, "exists already"),
        ({"base_url": "localhost:8000"}, 422, "base_url"),
        ({"weight": "-1"}, 422, "weight"),
        ({"extra_body": "{not json"}, 422, "extra_body"),
        ({"preset": "azure"}, 422, "unknown preset"),
    ],
)
def test_the_add_form_shows_what_is_wrong_and_keeps_the_input(
    shared_client: httpx.Client,
    fake: FakeOpenAI,
    module_database_url: str,
    fields: dict[str, str],
    status: int,
    words: str,
) -> None:
    client = shared_client
    csrf = login(client)
    data = {
        "csrf_token": csrf,
        "name": "gamma",
        "base_url": fake.base_url,
        "model": "upstream-gamma",
        "enabled": "on",
        **fields,
    }
    for headers in ({}, htmx(csrf)):
        r = client.post("/admin/models", headers=headers, data=data)
        assert r.status_code == status, r.text
        assert words in r.text
        assert 'value="upstream-gamma"' in r.text  # the input is shown again
    assert set(endpoints(module_database_url)) == {"alpha", "beta"}


def test_unknown_models_and_bad_filters_on_the_pages(shared_client: httpx.Client) -> None:
    client = shared_client
    csrf = login(client)
    assert client.get("/admin/models/nope").status_code == 404
    r = client.post("/admin/models/nope/disable", headers=htmx(csrf))
    assert r.status_code == 404 and r.headers["hx-retarget"] == "#flash"
    assert "no model named" in r.text
    assert client.get("/admin/models/new?preset=azure").status_code == 422
    assert client.get("/admin/votes?since=yesterday").status_code == 422
    assert client.get("/admin/votes?model=nope").status_code == 404


def test_a_typed_key_needs_the_secret_key(
    arena_server: ArenaServer, fake: FakeOpenAI, database_url: str
) -> None:
    with arena_server(secret_key=None) as srv, srv.client() as c:
        body = new_model(fake.base_url, api_key="sk-test-SECRET-123456")
        r = c.post("/api/admin/models", headers=AUTH, json=body)
        assert r.status_code == 422 and "ARENA_SECRET_KEY" in r.json()["detail"]
        r = c.patch(
            "/api/admin/models/alpha",
            headers=AUTH,
            json={"api_key": "sk-test-SECRET-123456", "weight": 5},
        )
        assert r.status_code == 422
        assert set(endpoints(database_url)) == {"alpha", "beta"}
        assert endpoints(database_url)["alpha"].weight == 1.0
        # Keys named by environment variable need no secret.
        r = c.post(
            "/api/admin/models", headers=AUTH, json=new_model(fake.base_url, api_key_env="SOME_KEY")
        )
        assert r.status_code == 201
