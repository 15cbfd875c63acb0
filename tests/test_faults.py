"""Upstream faults: what the voter sees, what the database keeps for the admin, the circuit breaker.

The fake upstream misbehaves on purpose for one model (`alpha`). With only two models configured a
side that fails cannot be replaced, so every fault ends in a failed battle whose neutral error the
voter sees; with three, a failure before the first token is handed to the third model unnoticed.
"""

from __future__ import annotations

import itertools
import json
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from types import TracebackType
from typing import Any

import httpx
import pytest
import tomli_w
from sqlalchemy import Engine
from sqlmodel import Session, select

from arena.store.engine import make_engine
from arena.store.tables import Answer, Battle, Endpoint, Turn, Vote, utcnow
from arena.upstream.failures import voter_message
from tests.conftest import MODELS, ArenaServer
from tests.fake_openai import Behavior, FakeOpenAI, closed_port_url, default_reply, tokenize
from tests.inproc import RunningArena

PROMPT = "Explain how tides work"
ALPHA = MODELS["alpha"]
ADMIN = {"Authorization": "Bearer test-admin-token-0123"}  # conftest's admin token


def write_models_file(path: Path, entries: list[dict[str, Any]]) -> Path:
    """A models.toml with exactly these entries."""
    path.write_text(tomli_w.dumps({"models": entries}))
    return path


def model(name: str, base_url: str, upstream: str, **extra: Any) -> dict[str, Any]:
    """One `[[models]]` entry."""
    return {"name": name, "base_url": base_url, "model": upstream, **extra}


class Voter:
    """A voter's client that remembers every status it was answered."""

    def __init__(self, srv: RunningArena) -> None:
        self.statuses: list[int] = []
        self.http = srv.client()
        self.http.event_hooks["response"] = [lambda r: self.statuses.append(r.status_code)]

    def __enter__(self) -> Voter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.http.close()

    def get(self, url: str, **kwargs: Any) -> httpx.Response:
        return self.http.get(url, **kwargs)

    def post(self, url: str, **kwargs: Any) -> httpx.Response:
        return self.http.post(url, **kwargs)

    def start(self, prompt: str = PROMPT) -> str:
        r = self.post("/api/battles", json={"prompt": prompt})
        assert r.status_code == 201, r.text
        return str(r.json()["battle_id"])

    def events(self, battle_id: str) -> tuple[list[tuple[str, Any]], str]:
        """The stream's (event, parsed data) pairs, and its raw text."""
        with self.http.stream("GET", f"/api/battles/{battle_id}/stream") as resp:
            assert resp.status_code == 200
            raw = resp.read().decode()
        events = []
        for block in raw.split("\n\n"):
            lines = block.split("\n")
            name = next((ln[7:] for ln in lines if ln.startswith("event: ")), None)
            data = "\n".join(ln[6:] for ln in lines if ln.startswith("data: "))
            if name:
                events.append((name, json.loads(data)))
        return events, raw

    def state(self, battle_id: str) -> dict[str, Any]:
        r = self.get(f"/api/battles/{battle_id}")
        assert r.status_code == 200, r.text
        body: dict[str, Any] = r.json()
        return body


class HealthWatch:
    """Polls `GET /api/health` in a thread for as long as the block runs."""

    def __init__(self, srv: RunningArena) -> None:
        self.srv = srv
        self.statuses: list[int] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        with self.srv.client() as c:
            while True:
                started = time.monotonic()
                try:
                    status = c.get("/api/health").status_code
                except httpx.HTTPError:
                    status = 0
                # An answer after 10 s counts as none (a client's timeout over a socket).
                self.statuses.append(status if time.monotonic() - started < 10 else 0)
                if self._stop.wait(0.05):
                    return

    def __enter__(self) -> HealthWatch:
        self._thread.start()
        return self

    def __exit__(
        self, et: type[BaseException] | None, ev: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._stop.set()
        self._thread.join(15)

    def assert_green(self) -> None:
        assert self.statuses, "the health endpoint was never polled"
        assert set(self.statuses) == {200}, self.statuses


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    """A second engine on the arena's database, to check what it recorded."""
    eng = make_engine(database_url)
    yield eng
    eng.dispose()


@pytest.fixture
def strict_fake(fake: FakeOpenAI) -> Iterator[FakeOpenAI]:
    """The fake upstream answering 404 model_not_found for ids it does not know."""
    fake.strict_models = True
    try:
        yield fake
    finally:
        fake.strict_models = False


def answers_by_model(engine: Engine, battle_id: str) -> dict[str, tuple[str, Answer]]:
    """The first turn's answers keyed by model name: (side, answer)."""
    with Session(engine) as s:
        turn = s.exec(select(Turn).where(Turn.battle_id == battle_id)).one()
        out = {}
        for ans in s.exec(select(Answer).where(Answer.turn_id == turn.id)).all():
            ep = s.get(Endpoint, ans.endpoint_id)
            assert ep is not None
            out[ep.name] = (ans.side, ans)
        return out


def asked(fake: FakeOpenAI, upstream_id: str, prompt: str = PROMPT) -> list[Any]:
    """The chat requests the upstream received for this model and prompt."""
    return [
        r
        for r in fake.requests_for(upstream_id)
        if r.messages and r.messages[-1].get("content") == prompt
    ]


def endpoint(engine: Engine, name: str) -> Endpoint:
    """A model endpoint's row, breaker state included."""
    with Session(engine) as s:
        return s.exec(select(Endpoint).where(Endpoint.name == name)).one()


def battle_status(engine: Engine, battle_id: str) -> str:
    with Session(engine) as s:
        battle = s.get(Battle, battle_id)
        assert battle is not None
        return battle.status


def votes_for(engine: Engine, battle_id: str) -> list[Vote]:
    with Session(engine) as s:
        return list(s.exec(select(Vote).where(Vote.battle_id == battle_id)).all())


@dataclass(frozen=True)
class Fault:
    """One way the upstream misbehaves for `alpha`, and the outcome it must have."""

    behavior: Behavior | None
    kind: str | None  # the voter-facing error kind; None: the answer is complete
    detail: str = ""  # words of the upstream that the admin must find in error_detail
    partial: int = 0  # content chunks shown before the failure
    # A connection reset may take the bytes that arrived with it (aiohttp raises before handing
    # out what it buffered): then at least this many chunks, sent well before, are shown.
    partial_at_least: int | None = None
    settings: dict[str, Any] = field(default_factory=dict)
    upstream_id: str = ALPHA
    refused: bool = False  # alpha's base_url is a closed port
    strict: bool = False  # the upstream answers 404 for unknown model ids
    requests: int = 1  # chat requests alpha's upstream receives


# The timeouts are short but not tight: the healthy side must never reach them on a busy machine.
FAULTS = {
    "http_500": Fault(
        Behavior(status=500), "server", "The server had an error while processing your request"
    ),
    "http_401": Fault(
        Behavior(require_api_key="sk-the-right-key-0123456789"),
        "auth",
        "Incorrect API key provided",
    ),
    "http_404_unknown_model": Fault(
        None, "not_found", "does not exist", upstream_id="upstream-retired-3b", strict=True
    ),
    "http_429_retries_exhausted": Fault(
        Behavior(status=429, retry_after=0.1),
        "rate_limited",
        "Rate limit reached",
        settings={"upstream_retries": 2},
        requests=3,
    ),
    "connection_refused": Fault(None, "connection", "connect", refused=True, requests=0),
    "no_first_token": Fault(
        Behavior(first_token_delay=30),
        "timeout",
        "timeout after",
        settings={"first_token_timeout": 1.5},
    ),
    "stall_mid_stream": Fault(
        Behavior(stall_after=3), "stalled", "stalled", partial=3, settings={"stall_timeout": 1.5}
    ),
    "cut_without_done": Fault(
        Behavior(cut_after=3), "incomplete", "without a finish_reason", partial=3
    ),
    "connection_dropped_mid_stream": Fault(
        Behavior(cut_after=3, cut_mode="abort", token_delay=0.05),
        "connection",
        "connection",
        partial=3,
        partial_at_least=2,
    ),
    "malformed_chunk": Fault(
        Behavior(malformed_after=3), "protocol", "malformed response", partial=3
    ),
    "malformed_first_chunk": Fault(Behavior(malformed_after=0), "protocol", "malformed response"),
    # One 17 MiB chunk: refused, not buffered without end.
    "oversized_event": Fault(Behavior(reply="x" * (17 << 20)), "protocol", "over 16 MiB"),
    # 17 data lines of 1 MiB in one event: no line is over the limit, the event is.
    "oversized_event_of_many_lines": Fault(
        Behavior(padding=17 << 20, framing="awkward"), "protocol", "an event of over 16 MiB"
    ),
    # 15 lines of 1 MiB: under the limit, so a complete answer.
    "large_event_of_many_lines": Fault(Behavior(padding=15 << 20, framing="awkward"), None),
    "content_filter": Fault(
        Behavior(content_filter=True), "content_filter", "Input data may contain inappropriate"
    ),
    "content_filter_on_output": Fault(
        Behavior(output_filter_after=3),
        "content_filter",
        "Output data may contain inappropriate",
        partial=3,
    ),
    "plain_json_reply": Fault(Behavior(plain_json=True), None),
}


@pytest.mark.parametrize("name", list(FAULTS))
def test_fault(
    name: str,
    arena_server: ArenaServer,
    fake: FakeOpenAI,
    tmp_path: Path,
    engine: Engine,
    request: pytest.FixtureRequest,
) -> None:
    f = FAULTS[name]
    if f.strict:
        request.getfixturevalue("strict_fake")
    if f.behavior is not None:
        fake.set_behavior(f.upstream_id, f.behavior)
    alpha_url = closed_port_url() if f.refused else fake.base_url
    models = write_models_file(
        tmp_path / "models.toml",
        [
            model("alpha", alpha_url, f.upstream_id),
            model("beta", fake.base_url, MODELS["beta"]),
        ],
    )
    reply = default_reply([{"role": "user", "content": PROMPT}])

    with (
        arena_server(models=models, **f.settings) as srv,
        HealthWatch(srv) as health,
        Voter(srv) as voter,
    ):
        battle = voter.start()
        events, raw = voter.events(battle)
        state = voter.state(battle)
        vote = voter.post(f"/api/battles/{battle}/vote", json={"winner": "tie"})
        ep = endpoint(engine, "alpha")
        again = voter.post("/api/battles", json={"prompt": "Another question"})
        if again.status_code == 201:
            # Its answers come (or fail) before the arena stops: stopping while a side records
            # its failure can leave that thread a pooled connection after the engine is disposed.
            voter.events(again.json()["battle_id"])
    health.assert_green()
    assert all(s < 500 for s in voter.statuses), voter.statuses
    assert again.status_code == 201  # a new round is always offered
    assert len(asked(fake, f.upstream_id)) == f.requests

    by_model = answers_by_model(engine, battle)
    side, alpha = by_model["alpha"]
    other_side, beta = by_model["beta"]
    assert beta.status == "done" and beta.content == reply  # the healthy side is unaffected
    assert state["turns"][0][other_side] == {"content": reply, "reasoning": None, "error": None}
    seen = state["turns"][0][side]
    done = {d["side"]: d for n, d in events if n == "done"}

    if f.kind is None:  # a complete answer after all
        assert events[-1] == ("end", {"status": "ready"})
        assert state["status"] == "ready" and seen["content"] == reply and seen["error"] is None
        assert vote.status_code == 200 and vote.json()[f"model_{side}"] == "alpha"
        assert alpha.status == "done" and alpha.error_detail is None
        return

    message = voter_message(f.kind)
    assert events[-1] == ("end", {"status": "failed"})
    assert done[side] == {"side": side, "status": "failed", "error": message}
    assert done[other_side]["status"] == "done"
    partial = "".join(tokenize(reply)[: f.partial])
    if f.partial_at_least is not None and seen["content"] != partial:
        shown = len(tokenize(seen["content"]))
        assert f.partial_at_least <= shown < f.partial, seen
        partial = "".join(tokenize(reply)[:shown])
    assert state["status"] == "failed"
    assert seen == {"content": partial, "reasoning": None, "error": message}
    assert state["model_a"] is None and state["model_b"] is None
    # The voter never learns who failed or what the upstream said.
    for text in (json.dumps(state), raw):
        for secret in ("alpha", "beta", ALPHA, MODELS["beta"], f.upstream_id, f.detail):
            assert secret not in text
    assert vote.status_code == 409 and "new round" in vote.json()["detail"]
    assert votes_for(engine, battle) == []
    assert battle_status(engine, battle) == "failed"
    # The admin gets the upstream's own words.
    assert alpha.status == "failed" and alpha.error == message and alpha.content == partial
    assert alpha.error_detail is not None and alpha.error_detail.startswith(f"{f.kind}:")
    assert f.detail.lower() in alpha.error_detail.lower(), alpha.error_detail
    assert ep.consecutive_failures == 1 and ep.paused_until is None
    assert ep.last_error is not None and f.detail.lower() in ep.last_error.lower()


def test_429_retry_honours_retry_after(
    arena_server: ArenaServer, fake: FakeOpenAI, engine: Engine
) -> None:
    """Rate-limited once, then fine: the retries wait what Retry-After says and the voter sees
    an ordinary battle."""
    fake.set_behavior(ALPHA, Behavior(status=429, retry_after=1.0, fail_times=1))
    with (
        arena_server(upstream_retries=2) as srv,
        HealthWatch(srv) as health,
        Voter(srv) as voter,
    ):
        battle = voter.start()
        events, _ = voter.events(battle)
        vote = voter.post(f"/api/battles/{battle}/vote", json={"winner": "model_a"})
    health.assert_green()
    assert events[-1] == ("end", {"status": "ready"})
    assert vote.status_code == 200
    tries = fake.requests_for(ALPHA)
    assert [r.status for r in tries] == [429, 200]
    # Server-side arrival times: a lower bound only, which a slow machine can never break. The
    # client's own backoff would have waited at most 0.5 s.
    gaps = [b.monotonic - a.monotonic for a, b in itertools.pairwise(tries)]
    assert min(gaps) >= 0.95, gaps
    assert endpoint(engine, "alpha").consecutive_failures == 0


def three_models(tmp_path: Path, fake: FakeOpenAI, alpha_url: str | None = None) -> Path:
    """alpha (drawn almost surely: weight 10⁶), beta and gamma, all on the fake upstream."""
    fake.add_model("upstream-gamma-70b")
    return write_models_file(
        tmp_path / "three.toml",
        [
            model("alpha", alpha_url or fake.base_url, ALPHA, weight=1e6),
            model("beta", fake.base_url, MODELS["beta"]),
            model("gamma", fake.base_url, "upstream-gamma-70b"),
        ],
    )


@pytest.mark.parametrize("fault", ["http_500", "connection_refused"])
def test_failure_before_first_token_is_replaced_unnoticed(
    fault: str, arena_server: ArenaServer, fake: FakeOpenAI, tmp_path: Path, engine: Engine
) -> None:
    if fault == "http_500":
        fake.set_behavior(ALPHA, Behavior(status=500))
        models = three_models(tmp_path, fake)
    else:
        models = three_models(tmp_path, fake, closed_port_url())
    with (
        arena_server(models=models, breaker_failures=2) as srv,
        HealthWatch(srv) as health,
        Voter(srv) as voter,
    ):
        reveals = []
        for i in range(3):
            battle = voter.start()
            events, raw = voter.events(battle)
            assert events[-1] == ("end", {"status": "ready"}), (
                i,
                events,
                {
                    k: (v[0], v[1].error_detail, v[1].attempts)
                    for k, v in answers_by_model(engine, battle).items()
                },
            )
            assert [d["status"] for n, d in events if n == "done"] == ["done", "done"], events
            assert "error" not in raw.replace('"error": null', "")
            state = voter.state(battle)
            assert state["status"] == "ready"
            assert all(state["turns"][0][s]["error"] is None for s in "ab")
            r = voter.post(f"/api/battles/{battle}/vote", json={"winner": "model_b"})
            assert r.status_code == 200
            reveals.append({r.json()["model_a"], r.json()["model_b"]})
            ep = endpoint(engine, "alpha")
            if i == 0:
                # Drawn, failed, replaced: the replacement's name is revealed, alpha counted once.
                by_model = answers_by_model(engine, battle)
                assert "alpha" not in by_model
                assert max(a.attempts for _, a in by_model.values()) == 2
                assert ep.consecutive_failures == 1 and ep.paused_until is None
            elif i == 1:
                # The second failure in a row opens the breaker for breaker_pause_minutes.
                assert ep.paused_until is not None and ep.paused_until > utcnow()
                assert ep.consecutive_failures == 2 and ep.last_error
                # Admins see the pause and the upstream's words.
                admin = voter.get("/api/admin/models/alpha", headers=ADMIN)
                assert admin.status_code == 200, admin.text
                assert admin.json()["breaker"]["paused"] is True
                assert ep.last_error in admin.json()["breaker"]["last_error"]
    health.assert_green()
    assert all(s < 500 for s in voter.statuses)
    assert reveals == [{"beta", "gamma"}] * 3
    # Paused: the third battle never drew alpha despite its huge weight.
    if fault == "http_500":
        assert len(fake.requests_for(ALPHA)) == 2


def test_replacement_tries_are_bounded(
    arena_server: ArenaServer, fake: FakeOpenAI, tmp_path: Path, engine: Engine
) -> None:
    """Every model fails: each side tries at most 1 + replacement_tries models, then fails."""
    ids = [f"upstream-m{i}" for i in range(6)]
    for mid in ids:
        fake.set_behavior(mid, Behavior(status=503))
    models = write_models_file(
        tmp_path / "six.toml", [model(f"m{i}", fake.base_url, mid) for i, mid in enumerate(ids)]
    )
    with (
        arena_server(models=models, replacement_tries=1, breaker_failures=10) as srv,
        Voter(srv) as voter,
    ):
        battle = voter.start()
        events, _ = voter.events(battle)
        state = voter.state(battle)
    assert events[-1] == ("end", {"status": "failed"})
    assert state["status"] == "failed"
    assert all(state["turns"][0][s]["error"] == voter_message("server") for s in "ab")
    assert len(fake.chat_requests) == 4  # two sides × (1 + replacement_tries)
    assert all(a.attempts == 2 for _, a in answers_by_model(engine, battle).values())


def test_failure_after_partial_output_is_not_replaced(
    arena_server: ArenaServer, fake: FakeOpenAI, tmp_path: Path, engine: Engine
) -> None:
    """Once a side has shown text it keeps its seat: the battle fails and takes no vote."""
    fake.set_behavior(ALPHA, Behavior(cut_after=5))
    with (
        arena_server(models=three_models(tmp_path, fake)) as srv,
        HealthWatch(srv) as health,
        Voter(srv) as voter,
    ):
        battle = voter.start()
        events, _ = voter.events(battle)
        state = voter.state(battle)
        vote = voter.post(f"/api/battles/{battle}/vote", json={"winner": "model_a"})
        follow_up = voter.post(f"/api/battles/{battle}/turns", json={"prompt": "and then?"})
    health.assert_green()
    side, alpha = answers_by_model(engine, battle)["alpha"]
    partial = "".join(tokenize(default_reply([{"role": "user", "content": PROMPT}]))[:5])
    assert events[-1] == ("end", {"status": "failed"})
    assert state["status"] == "failed"
    assert state["turns"][0][side] == {
        "content": partial,
        "reasoning": None,
        "error": voter_message("incomplete"),
    }
    assert alpha.attempts == 1 and len(fake.requests_for(ALPHA)) == 1
    assert vote.status_code == 409 and follow_up.status_code == 409
    assert votes_for(engine, battle) == []


def test_breaker_counts_failures_in_a_row_only(
    arena_server: ArenaServer, fake: FakeOpenAI, engine: Engine
) -> None:
    """A complete answer resets the count: K failures must be consecutive to pause a model."""
    fake.set_behavior(ALPHA, Behavior(status=500, fail_times=1))
    with arena_server(breaker_failures=2) as srv, Voter(srv) as voter:
        failed = voter.start()
        assert voter.events(failed)[0][-1] == ("end", {"status": "failed"})
        assert endpoint(engine, "alpha").consecutive_failures == 1
        ok = voter.start()
        assert voter.events(ok)[0][-1] == ("end", {"status": "ready"})
    ep = endpoint(engine, "alpha")
    assert ep.consecutive_failures == 0 and ep.paused_until is None


def test_breaker_reopens_on_the_first_failure_after_a_pause(
    arena_server: ArenaServer, fake: FakeOpenAI, engine: Engine
) -> None:
    """Half-open: after its pause a model that fails again is paused again at once."""
    fake.set_behavior(ALPHA, Behavior(status=500))
    with arena_server(breaker_failures=2, replacement_tries=0) as srv, Voter(srv) as voter:
        for _ in range(2):
            voter.events(voter.start())
        assert endpoint(engine, "alpha").paused_until is not None
        # The pause ends (as if its minutes had passed): one more failure re-opens it.
        with Session(engine) as session:
            row = session.exec(select(Endpoint).where(Endpoint.name == "alpha")).one()
            row.paused_until = utcnow() - timedelta(seconds=1)
            session.add(row)
            session.commit()
        voter.events(voter.start())
        ep = endpoint(engine, "alpha")
        assert ep.paused_until is not None and ep.paused_until > utcnow()
        assert ep.consecutive_failures == 3
        # A complete answer clears the probation.
        fake.set_behavior(ALPHA, Behavior())
        with Session(engine) as session:
            row = session.exec(select(Endpoint).where(Endpoint.name == "alpha")).one()
            row.paused_until = None
            session.add(row)
            session.commit()
        voter.events(voter.start())
    assert endpoint(engine, "alpha").consecutive_failures == 0


REFUSE_BATTLES = {
    "sqlite": [
        "CREATE TRIGGER refuse_battles BEFORE INSERT ON battle "
        "BEGIN SELECT RAISE(ABORT, 'no room for battles'); END"
    ],
    "postgresql": [
        "CREATE FUNCTION refuse_battles() RETURNS trigger LANGUAGE plpgsql AS "
        "$$ BEGIN RAISE EXCEPTION 'no room for battles'; END $$",
        "CREATE TRIGGER refuse_battles BEFORE INSERT ON battle "
        "FOR EACH ROW EXECUTE FUNCTION refuse_battles()",
    ],
}


@contextmanager
def battles_refused_once_unlocked(engine: Engine) -> Iterator[None]:
    """Inside: inserting a battle waits (a transaction holds the lock while it adds a trigger).
    On leaving: that transaction commits, and the waiting insert fails on the trigger."""
    if engine.dialect.name == "sqlite":
        db = sqlite3.connect(str(engine.url.database), isolation_level=None, timeout=30)
        try:
            db.execute("BEGIN IMMEDIATE")
            for statement in REFUSE_BATTLES["sqlite"]:
                db.execute(statement)
            yield
            db.execute("COMMIT")
        finally:
            db.close()
    else:
        with engine.begin() as conn:  # CREATE TRIGGER locks out inserts until the commit
            for statement in REFUSE_BATTLES["postgresql"]:
                conn.exec_driver_sql(statement)
            yield


def test_a_battle_that_cannot_be_stored_stops_its_models(
    arena_server: ArenaServer, fake: FakeOpenAI, engine: Engine
) -> None:
    """Both models are asked while the battle is being stored; when storing fails, the voter
    gets a clear 503, both upstream requests are closed and nothing is left half-written."""
    with arena_server() as srv, HealthWatch(srv) as health, Voter(srv) as voter:
        first = voter.start()  # the upstream connections are open now, as on a busy arena
        assert voter.events(first)[0][-1] == ("end", {"status": "ready"})
        fake.reset()
        fake.set_default(Behavior(first_token_delay=0.3, token_delay=0.05))
        refused: list[httpx.Response] = []
        with battles_refused_once_unlocked(engine):
            post = threading.Thread(
                target=lambda: refused.append(
                    voter.post("/api/battles", json={"prompt": "A question that finds no room"})
                )
            )
            post.start()
            fake.wait_for(lambda: len(fake.chat_requests) == 2)  # both models were asked
        post.join(30)
        assert refused[0].status_code == 503
        assert refused[0].json()["detail"].startswith("The arena's database is not available")
        # Both requests are closed long before an answer could finish.
        fake.wait_for(lambda: all(r.outcome == "disconnected" for r in fake.chat_requests))
        with engine.begin() as conn:
            conn.exec_driver_sql(
                "DROP TRIGGER refuse_battles"
                + (" ON battle" if engine.dialect.name == "postgresql" else "")
            )
        battle = voter.start()  # the next round works
        assert voter.events(battle)[0][-1] == ("end", {"status": "ready"})
    health.assert_green()
    with Session(engine) as s:
        assert len(s.exec(select(Battle)).all()) == 2
        assert len(s.exec(select(Turn)).all()) == 2
        assert len(s.exec(select(Answer)).all()) == 4
