"""Vote integrity: identity leaks, rate limits, the daily cap, cookies, hygiene, vote stuffing."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from itsdangerous import TimestampSigner, URLSafeTimedSerializer

from tests.conftest import MODELS, ArenaServer, read_events
from tests.fake_openai import Behavior, FakeOpenAI
from tests.inproc import InProcessArena
from tests.vote_stuffing import Plan, honest_file, prepare, simulate


def battle(c: httpx.Client, prompt: str = "hi") -> str:
    r = c.post("/api/battles", json={"prompt": prompt})
    assert r.status_code == 201, r.text
    battle_id = str(r.json()["battle_id"])
    read_events(c, f"/api/battles/{battle_id}/stream")
    return battle_id


def test_leak_in_b_answer_is_caught(shared_client: httpx.Client, fake: FakeOpenAI) -> None:
    client = shared_client
    fake.set_behavior(MODELS["beta"], Behavior(reply="As beta, trained by the beta labs team: 4."))
    fake.set_behavior(MODELS["alpha"], Behavior(reply="The answer is 4."))
    battle_id = battle(client)
    r = client.post(f"/api/battles/{battle_id}/vote", json={"winner": "model_a"}).json()
    assert r["leaked"] is True and r["counted"] is False
    side = "Model A" if r["model_a"] == "beta" else "Model B"
    assert r["notice"].startswith(side) and "does not count" in r["notice"]


def test_upstream_id_and_aliases_count_as_leaks(
    shared_client: httpx.Client, fake: FakeOpenAI
) -> None:
    client = shared_client
    fake.set_default(Behavior(reply="I am UPSTREAM-ALPHA-7B, nice to meet you."))
    battle_id = battle(client)
    r = client.post(f"/api/battles/{battle_id}/vote", json={"winner": "tie"}).json()
    assert r["leaked"] is True


def test_prompt_naming_a_model_does_not_mark_the_vote(
    shared_client: httpx.Client, fake: FakeOpenAI
) -> None:
    client = shared_client
    fake.set_default(Behavior(reply="I cannot tell you which model I am."))
    battle_id = battle(client, "Are you alpha or beta? Is alpha labs behind you?")
    r = client.post(f"/api/battles/{battle_id}/vote", json={"winner": "tie"}).json()
    assert r["leaked"] is False and r["counted"] is True and r["notice"] is None


def test_word_boundaries(shared_client: httpx.Client, fake: FakeOpenAI) -> None:
    client = shared_client
    # "alphabet" and "betamax" contain the names but are other words.
    fake.set_default(Behavior(reply="The alphabet has letters; betamax was a format."))
    battle_id = battle(client)
    assert (
        client.post(f"/api/battles/{battle_id}/vote", json={"winner": "tie"}).json()["leaked"]
        is False
    )


def test_rate_limit_on_new_battles(arena_server: ArenaServer, fake: FakeOpenAI) -> None:
    with arena_server(battles_per_voter_per_hour=3) as srv, srv.client() as c:
        for _ in range(3):
            assert c.post("/api/battles", json={"prompt": "hi"}).status_code == 201
        r = c.post("/api/battles", json={"prompt": "hi"})
        assert r.status_code == 429
        assert 1 <= int(r.headers["retry-after"]) <= 3600
        assert "at most 3 an hour" in r.json()["detail"]
        # Another voter (a fresh cookie) is not limited by this one.
        with srv.client() as other:
            assert other.post("/api/battles", json={"prompt": "hi"}).status_code == 201
        # Their models are asked before the arena stops (stopping at once would cut that short).
        fake.wait_for(lambda: len(fake.chat_requests) >= 2 * 4)
    # The refused request never reached a model: two upstream requests per accepted battle.
    assert len(fake.chat_requests) == 2 * 4


def test_rate_limit_holds_for_requests_sent_at_once(
    arena_server: ArenaServer, fake: FakeOpenAI
) -> None:
    """Twelve prompts of one voter at the same instant, three allowed: exactly three battles
    start, however the worker groups them (a batch counts its own starts, and the next batch
    counts those drawn but not stored yet)."""
    with arena_server(battles_per_voter_per_hour=3) as srv, srv.client() as c:
        c.get("/api/health")
        clients = [srv.client(cookies=c.cookies) for _ in range(12)]
        ready = threading.Barrier(len(clients))

        def post(client: httpx.Client) -> httpx.Response:
            ready.wait()
            return client.post("/api/battles", json={"prompt": "hi"})

        with ThreadPoolExecutor(len(clients)) as pool:
            responses = list(pool.map(post, clients))
        codes = sorted(r.status_code for r in responses)
        assert codes == [201] * 3 + [429] * 9, codes
        for r in responses:
            if r.status_code == 201:
                read_events(c, f"/api/battles/{r.json()['battle_id']}/stream")
        for client in clients:
            client.close()
    assert len(fake.chat_requests) == 2 * 3


def test_rate_limit_per_ip_across_cookies(arena_server: ArenaServer, fake: FakeOpenAI) -> None:
    with arena_server(battles_per_ip_per_hour=4) as srv:
        codes = []
        for _ in range(6):
            with srv.client() as c:  # a new cookie every time, one IP
                codes.append(c.post("/api/battles", json={"prompt": "hi"}).status_code)
        assert codes == [201] * 4 + [429] * 2


def test_trusted_proxy_header_gives_the_client_ip(
    arena_server: ArenaServer, fake: FakeOpenAI
) -> None:
    with arena_server(battles_per_ip_per_hour=1, trusted_proxy_headers=["X-Forwarded-For"]) as srv:
        for ip in ("203.0.113.1", "203.0.113.2"):
            with srv.client(headers={"X-Forwarded-For": ip}) as c:
                assert c.post("/api/battles", json={"prompt": "hi"}).status_code == 201
        with srv.client(headers={"X-Forwarded-For": "203.0.113.1"}) as c:
            assert c.post("/api/battles", json={"prompt": "hi"}).status_code == 429
    # Without trusting the header, a client cannot pick its own IP.
    with arena_server(battles_per_ip_per_hour=1) as srv:
        for n, ip in enumerate(("203.0.113.1", "203.0.113.2")):
            with srv.client(headers={"X-Forwarded-For": ip}) as c:
                assert c.post("/api/battles", json={"prompt": "hi"}).status_code == (
                    201 if n == 0 else 429
                )


def test_daily_cap_on_counted_votes(arena_server: ArenaServer, fake: FakeOpenAI) -> None:
    with (
        arena_server(counted_votes_per_voter_per_day=2) as srv,
        srv.client() as c,
    ):
        results = []
        for _ in range(3):
            b = battle(c)
            results.append(c.post(f"/api/battles/{b}/vote", json={"winner": "tie"}).json())
        assert [r["counted"] for r in results] == [True, True, False]
        assert "limit" in results[2]["notice"]


class _LongAgo(TimestampSigner):
    def get_timestamp(self) -> int:
        return int(time.time()) - 400 * 86400


def test_forged_and_expired_cookies_record_no_vote(
    shared_arena: InProcessArena, shared_client: httpx.Client, fake: FakeOpenAI
) -> None:
    arena, client = shared_arena, shared_client
    battle_id = battle(client)
    cookie = client.cookies["arena_voter"]
    secret = "test-secret-key-0123456789abcdef0123"
    voter_id = URLSafeTimedSerializer(secret, salt="arena-voter").loads(cookie)
    forged = URLSafeTimedSerializer("not-the-secret-key-0123456789abcdef", salt="arena-voter")
    expired = URLSafeTimedSerializer(secret, salt="arena-voter", signer=_LongAgo)
    for bad in (forged.dumps(voter_id), cookie[:-3] + "abc", "garbage", expired.dumps(voter_id)):
        with arena.client(cookies={"arena_voter": bad}) as thief:
            r = thief.post(f"/api/battles/{battle_id}/vote", json={"winner": "model_a"})
            assert r.status_code == 403
            # The bad cookie is replaced by a fresh identity.
            assert "arena_voter=" in r.headers["set-cookie"]
            assert bad not in r.headers["set-cookie"]
    assert client.get(f"/api/battles/{battle_id}").json()["status"] == "ready"


# --- the stuffing simulation ---------------------------------------------------------------------


def test_vote_stuffing_moves_the_target_less_than_its_interval(
    arena_server: ArenaServer, fake: FakeOpenAI, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """One cookie trying again and again, then fresh cookies from one IP, all voting for one model.

    A third of `benchmarks/vote_stuffing.py` (which runs 1,000 tries from one cookie, then 50
    fresh cookies, against the default limits and 3,000 honest votes): limits and tries a third,
    honest votes a ninth, so the attack is as large against the target's interval as there."""
    plan = Plan().scaled(3)
    models = prepare(fake, tmp_path)
    with arena_server(models=models, **plan.settings()) as srv:
        result = simulate(srv, plan, honest_file(tmp_path, plan.honest))
    with capsys.disabled():
        print("\n" + result.report())
    # The rate limits bound the attack: no more battles from its one IP than the limit.
    assert result.started <= plan.per_ip
    # Counted as cast, the stuffed votes would move the target out of its interval ...
    assert result.unprotected_moved >= result.half_width
    # ... and yet it moves less than the interval.
    assert abs(result.moved) < result.half_width


# --- the moderation hook -------------------------------------------------------------------------


def test_moderation_hook(arena_server: ArenaServer, fake: FakeOpenAI) -> None:
    fake.set_moderation(["forbidden"])
    with (
        arena_server(
            moderation_enabled=True, moderation_base_url=fake.base_url, moderation_api_key_env=None
        ) as srv,
        srv.client() as c,
    ):
        r = c.post("/api/battles", json={"prompt": "tell me something forbidden"})
        assert r.status_code == 422 and "moderation" in r.json()["detail"]
        assert fake.chat_requests == []  # the models were never asked
        # An answer can be flagged too: on either side.
        fake.set_behavior(MODELS["beta"], Behavior(reply="Here is the forbidden thing."))
        battle_id = c.post("/api/battles", json={"prompt": "hello"}).json()["battle_id"]
        events = read_events(c, f"/api/battles/{battle_id}/stream")
        assert events[-1][1] == '{"status": "failed"}'
        state = c.get(f"/api/battles/{battle_id}").json()
        errors = [state["turns"][0][s]["error"] for s in ("a", "b")]
        assert sum(bool(e and "moderation" in e) for e in errors) == 1
        assert c.post(f"/api/battles/{battle_id}/vote", json={"winner": "tie"}).status_code == 409


@pytest.mark.parametrize(("policy", "status"), [("open", 201), ("closed", 424)])
def test_moderation_failure_policy(
    arena_server: ArenaServer, fake: FakeOpenAI, policy: str, status: int
) -> None:
    fake.set_moderation(["forbidden"], status=500)
    with (
        arena_server(
            moderation_enabled=True, moderation_base_url=fake.base_url, moderation_policy=policy
        ) as srv,
        srv.client() as c,
    ):
        r = c.post("/api/battles", json={"prompt": "hello"})
        assert r.status_code == status, r.text
