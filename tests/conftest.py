"""Shared fixtures: a fake OpenAI-compatible upstream, SQLite and PostgreSQL, a running arena."""

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
from tests.databases import PG_ADMIN, pg_available, postgres_database, wait_for_drops
from tests.fake_openai import FakeOpenAI
from tests.inproc import InProcessArena, RunningArena
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


def database_for(kind: str, directory: Path) -> Iterator[str]:
    """A SQLite file in `directory`, or a fresh PostgreSQL database (dropped afterwards)."""
    if kind == "sqlite":
        yield f"sqlite:///{directory / 'arena.db'}"
        return
    if not pg_available():
        if REQUIRE_PG:
            pytest.fail(f"PostgreSQL is required (ARENA_TEST_REQUIRE_PG=1) but {PG_ADMIN} is down")
        pytest.skip("PostgreSQL is not reachable")
    # Creating one takes 0.3 s and dropping it most of a second (a checkpoint): a thread does
    # both while tests run (the session waits for the last drops at its end).
    with postgres_database(in_background=True) as url:
        yield url


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """Every database-touching test runs on a SQLite file and on PostgreSQL."""
    yield from database_for(request.param, tmp_path)


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def module_database_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """One database for a whole module (a shared arena), on SQLite and on PostgreSQL."""
    yield from database_for(request.param, tmp_path_factory.mktemp("module-db"))


@pytest.fixture(scope="session", autouse=True)
def _postgres_databases_dropped() -> Iterator[None]:
    """The session ends once every PostgreSQL test database is dropped."""
    yield
    wait_for_drops()


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


def arena_settings(
    directory: Path, base_url: str, *, database_url: str, **overrides: Any
) -> Settings:
    """Settings for a test arena: the database, two models on the upstream at `base_url`."""
    models = overrides.pop("models", None) or write_models(directory / "models.toml", base_url)
    values: dict[str, Any] = {
        "database_url": database_url,
        "models": models,
        "config": directory / "none.toml",
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


@pytest.fixture
def make_settings(tmp_path: Path, database_url: str, fake: FakeOpenAI) -> Callable[..., Settings]:
    """Settings for a test arena: the test database, two models on the fake upstream."""

    def make(**overrides: Any) -> Settings:
        overrides.setdefault("database_url", database_url)
        return arena_settings(tmp_path, fake.base_url, **overrides)

    return make


ArenaServer = Callable[..., AbstractContextManager[InProcessArena]]


@pytest.fixture
def arena_server(make_settings: Callable[..., Settings]) -> ArenaServer:
    """Start an arena in this process, without a socket: `with arena_server(**settings) as srv:
    srv.client() …`. Its lifespan runs as under uvicorn; only the HTTP transport is left out."""

    @contextmanager
    def start(**overrides: Any) -> Iterator[InProcessArena]:
        with InProcessArena(create_app(make_settings(**overrides))) as srv:
            yield srv

    return start


@pytest.fixture
def loopback_server(
    make_settings: Callable[..., Settings],
) -> Callable[..., AbstractContextManager[ThreadedServer]]:
    """Start a real arena server (uvicorn) on loopback, for what needs a socket (a browser)."""

    @contextmanager
    def start(**overrides: Any) -> Iterator[ThreadedServer]:
        with ThreadedServer(create_app(make_settings(**overrides))) as srv:
            yield srv

    return start


@pytest.fixture
def arena(
    arena_server: Callable[..., AbstractContextManager[RunningArena]],
) -> Iterator[RunningArena]:
    """A running arena with the default test settings."""
    with arena_server() as srv:
        yield srv


@pytest.fixture
def client(arena: RunningArena) -> Iterator[httpx.Client]:
    """A voter: an HTTP client with its own cookie jar."""
    with arena.client() as c:
        yield c


@pytest.fixture(scope="module")
def shared_arena(
    module_database_url: str, upstream: FakeOpenAI, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[InProcessArena]:
    """One arena with the default test settings for a whole module, on SQLite and PostgreSQL: for
    the many checks (validation matrices) that each leave its database as they found it."""
    directory = tmp_path_factory.mktemp("shared")
    settings = arena_settings(directory, upstream.base_url, database_url=module_database_url)
    with InProcessArena(create_app(settings)) as srv:
        yield srv


@pytest.fixture
def shared_client(shared_arena: InProcessArena, fake: FakeOpenAI) -> Iterator[httpx.Client]:
    """A new voter on the module's shared arena (the fake upstream reset to its defaults)."""
    with shared_arena.client() as c:
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


@contextmanager
def migrated_engine(database_url: str, names: tuple[str, ...] = ("alpha", "beta")) -> Iterator[Any]:
    """A migrated database with these endpoints (on an unused port), no app around it."""
    from sqlmodel import Session

    from arena.store.engine import make_engine, migrate
    from arena.store.tables import Endpoint

    eng = make_engine(database_url)
    migrate(eng)
    with Session(eng) as s:
        for name in names:
            s.add(Endpoint(name=name, base_url="http://127.0.0.1:9/v1", model=name))
        s.commit()
    try:
        yield eng
    finally:
        eng.dispose()


@pytest.fixture
def engine(database_url: str) -> Iterator[Any]:
    """A migrated database holding the endpoints alpha and beta."""
    with migrated_engine(database_url) as eng:
        yield eng


@pytest.fixture
def db(database_url: str) -> Iterator[Any]:
    """A migrated database with no endpoints (the judge tests add their own)."""
    with migrated_engine(database_url, names=()) as eng:
        yield eng
