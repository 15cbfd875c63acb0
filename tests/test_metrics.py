"""/metrics: behind the admin token or on its own address, and — with `arena serve --workers 2`
and prometheus-client's multiprocess mode — counts that add up to what a load run did."""

from __future__ import annotations

import sys
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.admin_client import AUTH, TOKEN, play
from tests.arena_process import ArenaProcess, free_port
from tests.conftest import ArenaServer, write_models
from tests.fake_openai import FakeOpenAI

Samples = Counter[tuple[str, tuple[tuple[str, str], ...]]]


def samples(text: str) -> Samples:
    """(sample name, labels) → value, from the Prometheus text format."""
    found: Samples = Counter()
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            found[s.name, tuple(sorted(s.labels.items()))] += s.value
    return found


def total(
    found: Counter[tuple[str, tuple[tuple[str, str], ...]]], name: str, **labels: str
) -> float:
    """The sum of a sample over every label set that has these labels."""
    return sum(v for (n, ls), v in found.items() if n == name and set(labels.items()) <= set(ls))


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    """SQLite is enough: the counts come from the processes, not the database."""
    return f"sqlite:///{tmp_path / 'arena.db'}"


def test_metrics_need_the_admin_token(arena_server: ArenaServer) -> None:
    with arena_server() as srv, srv.client() as client:
        assert client.get("/metrics").status_code == 401
        assert (
            client.get("/metrics", headers={"Authorization": "Bearer nope-nope-nope"}).status_code
            == 401
        )
        play(client)
        r = client.get("/metrics", headers=AUTH)
        assert r.status_code == 200 and r.headers["content-type"].startswith("text/plain")
        found = samples(r.text)
        assert total(found, "arena_votes_total") >= 1
        assert total(found, "arena_breaker_open", model="alpha") == 0
        assert "/metrics" not in client.get("/openapi.json").json()["paths"]


def test_metrics_on_their_own_address(arena_server: ArenaServer) -> None:
    port = free_port()
    with arena_server(metrics_address=f"127.0.0.1:{port}") as srv, srv.client() as client:
        assert client.get("/metrics", headers=AUTH).status_code == 404
        r = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=10)
        assert r.status_code == 200 and "arena_breaker_open" in r.text


def test_two_workers_count_what_a_load_run_did(tmp_path: Path, fake: FakeOpenAI) -> None:
    battles, voters = 24, 4  # each voter may start battles // voters battles an hour
    multiproc = tmp_path / "prometheus"
    env = {
        "ARENA_DATABASE_URL": f"sqlite:///{tmp_path / 'arena.db'}",
        "ARENA_MODELS": str(write_models(tmp_path / "models.toml", fake.base_url)),
        "ARENA_CONFIG": str(tmp_path / "none.toml"),
        "ARENA_ADMIN_TOKEN": TOKEN,
        "ARENA_SECRET_KEY": "metrics-test-secret-key-0123456789abcdef",
        "ARENA_BATTLES_PER_VOTER_PER_HOUR": str(battles // voters),
        "PROMETHEUS_MULTIPROC_DIR": str(multiproc),
    }
    command = [sys.executable, "-m", "arena", "serve", "--log-level", "warning"]
    with ArenaProcess(env, command=command, workers=2) as server:

        def voter(_: int) -> int:
            """Plays its share of battles, then is refused one more (a limit hit)."""
            with httpx.Client(base_url=server.url, timeout=60) as client:
                for _ in range(battles // voters):
                    play(client, prompt="Tell me about load tests")
                refused = client.post("/api/battles", json={"prompt": "one more"})
                return refused.status_code

        with ThreadPoolExecutor(voters) as pool:
            assert list(pool.map(voter, range(voters))) == [429] * voters
        r = httpx.get(f"{server.url}/metrics", headers=AUTH, timeout=30)
        assert r.status_code == 200
    found = samples(r.text)
    assert total(found, "arena_battles_total") == 2 * battles  # two models a battle
    assert (
        total(found, "arena_battles_total", model="alpha")
        + total(found, "arena_battles_total", model="beta")
        == 2 * battles
    )
    assert total(found, "arena_votes_total") == battles
    assert total(found, "arena_votes_total", counted="true") == battles
    assert total(found, "arena_time_to_first_token_seconds_count") == 2 * battles
    assert total(found, "arena_answer_failures_total") == 0
    assert total(found, "arena_vote_leaks_total") == 0
    assert total(found, "arena_limits_hit_total", limit="battles_per_voter") == voters
    assert total(found, "arena_breaker_open") == 0
    # Both workers served, and the scrape added up the values of each.
    pids = {p.stem.rsplit("_", 1)[-1] for p in multiproc.glob("counter_*.db")}
    assert len(pids) >= 2, pids
