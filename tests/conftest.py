"""Shared fixtures: a fake OpenAI-compatible upstream, SQLite and PostgreSQL, a live arena."""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
import tomli_w

from arena.core.settings import Settings
from arena.web.app import create_app
from tests.databases import PG_ADMIN, pg_available, postgres_database
from tests.fake_openai import FakeOpenAI
from tests.servers import ThreadedServer

REQUIRE_PG = os.environ.get("ARENA_TEST_REQUIRE_PG") == "1"

# Two models the arena knows by name; the upstream knows them by these ids.
MODELS = {"alpha": "upstream-alpha-7b", "beta": "upstream-beta-13b"}


@pytest.fixture(scope="session")
def upstream() -> Iterator[FakeOpenAI]:
    """One fake upstream for the session; its behaviours are reset before every test."""
    with FakeOpenAI(models=tuple(MODELS.values())) as fake:
        yield fake


@pytest.fixture
def fake(upstream: FakeOpenAI) -> FakeOpenAI:
    """The fake upstream, reset to well-behaved defaults."""
    upstream.reset()
    return upstream


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """Every database-touching test runs on a SQLite file and on PostgreSQL."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'arena.store.engine'}"
        return
    if not pg_available():
        if REQUIRE_PG:
            pytest.fail(f"PostgreSQL is required (ARENA_TEST_REQUIRE_PG=1) but {PG_ADMIN} is down")
        pytest.skip("PostgreSQL is not reachable")
    with postgres_database() as url:
        yield url


def write_models(
    path: Path, base_url: str, models: dict[str, str] | None = None, **extra: Any
) -> Path:
    """A models.toml with the given name → upstream id pairs on one base URL."""
    entries = [
        {
            "name": name,
            "base_url": base_url,
            "model": model_id,
            "organization": f"{name} labs",
            **extra,
        }
        for name, model_id in (models or MODELS).items()
    ]
    path.write_text(tomli_w.dumps({"models": entries}))
    return path


@pytest.fixture
def make_settings(tmp_path: Path, database_url: str, fake: FakeOpenAI) -> Callable[..., Settings]:
    """Settings for a test arena: the test database, two models on the fake upstream."""

    def make(**overrides: Any) -> Settings:
        models = overrides.pop("models", None) or write_models(
            tmp_path / "models.toml", fake.base_url
        )
        values: dict[str, Any] = {
            "database_url": database_url,
            "models": models,
            "config": tmp_path / "none.toml",
            "htmx_source": "local",
            "persist_interval": 0.1,
            "first_token_timeout": 10,
            "stall_timeout": 10,
            "upstream_retries": 0,
            "secret_key": "test-secret-key-0123456789abcdef0123",
            "admin_token": "test-admin-token-0123",
        }
        values.update(overrides)
        return Settings(**values)

    return make


@pytest.fixture
def arena_server(
    make_settings: Callable[..., Settings],
) -> Callable[..., AbstractContextManager[ThreadedServer]]:
    """Start a real arena server on loopback: `with arena_server(**settings) as srv: …`."""

    @contextmanager
    def start(**overrides: Any) -> Iterator[ThreadedServer]:
        with ThreadedServer(create_app(make_settings(**overrides))) as srv:
            yield srv

    return start


@pytest.fixture
def arena(
    arena_server: Callable[..., AbstractContextManager[ThreadedServer]],
) -> Iterator[ThreadedServer]:
    """A running arena with the default test settings."""
    with arena_server() as srv:
        yield srv


@pytest.fixture
def client(arena: ThreadedServer) -> Iterator[httpx.Client]:
    """A voter: an HTTP client with its own cookie jar."""
    with httpx.Client(base_url=arena.url, timeout=30) as c:
        yield c


def read_events(client: httpx.Client, url: str) -> list[tuple[str, str]]:
    """All (event, data) pairs of an SSE response, read to its end."""
    events: list[tuple[str, str]] = []
    with client.stream("GET", url) as response:
        assert response.status_code == 200, response.read()
        assert response.headers["content-type"].startswith("text/event-stream")
        name, data = "message", []
        for line in response.iter_lines():
            if line.startswith("event:"):
                name = line[6:].strip()
            elif line.startswith("data:"):
                data.append(line[5:].removeprefix(" "))
            elif line == "":
                if data:
                    events.append((name, "\n".join(data)))
                name, data = "message", []
    return events


def answers(events: list[tuple[str, str]]) -> dict[str, str]:
    """The content of both sides as the stream's events build it up."""
    text = {"a": "", "b": ""}
    for name, data in events:
        if name == "delta":
            d = json.loads(data)
            if d["kind"] == "content":
                text[d["side"]] = d["text"] if d["replace"] else text[d["side"]] + d["text"]
    return text


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Browser tests last: Playwright's sync API keeps an event loop running in the main thread
    for the rest of the session, which asyncio-based tests after it cannot share."""
    items.sort(key=lambda item: item.get_closest_marker("browser") is not None)
