"""Vote integrity: identity leaks, rate limits, the daily cap, cookies, hygiene, vote stuffing."""

from __future__ import annotations

import random
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest
from itsdangerous import TimestampSigner, URLSafeTimedSerializer

from tests.conftest import MODELS, read_events
from tests.fake_openai import Behavior, FakeOpenAI


def battle(c: httpx.Client, prompt: str = "hi") -> str:
    r = c.post("/api/battles", json={"prompt": prompt})
    assert r.status_code == 201, r.text
    battle_id = str(r.json()["battle_id"])
    read_events(c, f"/api/battles/{battle_id}/stream")
    return battle_id


def test_leak_in_b_answer_is_caught(client: httpx.Client, fake: FakeOpenAI) -> None:
    fake.set_behavior(MODELS["beta"], Behavior(reply="As beta, trained by the beta labs team: 4."))
    fake.set_behavior(MODELS["alpha"], Behavior(reply="The answer is 4."))
    battle_id = battle(client)
    r = client.post(f"/api/battles/{battle_id}/vote", json={"winner": "model_a"}).json()
    assert r["leaked"] is True and r["counted"] is False
    side = "Model A" if r["model_a"] == "beta" else "Model B"
    assert r["notice"].startswith(side) and "does not count" in r["notice"]


def test_upstream_id_and_aliases_count_as_leaks(client: httpx.Client, fake: FakeOpenAI) -> None:
    fake.set_default(Behavior(reply="I am UPSTREAM-ALPHA-7B, nice to meet you."))
    battle_id = battle(client)
    r = client.post(f"/api/battles/{battle_id}/vote", json={"winner": "tie"}).json()
    assert r["leaked"] is True


def test_prompt_naming_a_model_does_not_mark_the_vote(
    client: httpx.Client, fake: FakeOpenAI
) -> None:
    fake.set_default(Behavior(reply="I cannot tell you which model I am."))
    battle_id = battle(client, "Are you alpha or beta? Is alpha labs behind you?")
    r = client.post(f"/api/battles/{battle_id}/vote", json={"winner": "tie"}).json()
    assert r["leaked"] is False and r["counted"] is True and r["notice"] is None


def test_word_boundaries(client: httpx.Client, fake: FakeOpenAI) -> None:
    # "alphabet" and "betamax" contain the names but are other words.
    fake.set_default(Behavior(reply="The alphabet has letters; betamax was a format."))
    battle_id = battle(client)
    assert (
        client.post(f"/api/battles/{battle_id}/vote", json={"winner": "tie"}).json()["leaked"]
        is False
    )


def test_rate_limit_on_new_battles(arena_server: Any, fake: FakeOpenAI) -> None:
    with arena_server(battles_per_voter_per_hour=3) as srv, httpx.Client(base_url=srv.url) as c:
        for _ in range(3):
            assert c.post("/api/battles", json={"prompt": "hi"}).status_code == 201
        r = c.post("/api/battles", json={"prompt": "hi"})
        assert r.status_code == 429
        assert 1 <= int(r.headers["retry-after"]) <= 3600
        assert "at most 3 an hour" in r.json()["detail"]
        # Another voter (a fresh cookie) is not limited by this one.
        with httpx.Client(base_url=srv.url) as other:
            assert other.post("/api/battles", json={"prompt": "hi"}).status_code == 201
    # The refused request never reached a model: two upstream requests per accepted battle.
    assert len(fake.chat_requests) == 2 * 4


def test_rate_limit_holds_for_requests_sent_at_once(arena_server: Any, fake: FakeOpenAI) -> None:
    """Twelve prompts of one voter at the same instant, three allowed: exactly three battles
    start, however the worker groups them (a batch counts its own starts, and the next batch
    counts those drawn but not stored yet)."""
    with arena_server(battles_per_voter_per_hour=3) as srv, httpx.Client(base_url=srv.url) as c:
        c.get("/api/health")
        clients = [httpx.Client(base_url=srv.url, cookies=c.cookies, timeout=30) for _ in range(12)]
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


def test_rate_limit_per_ip_across_cookies(arena_server: Any, fake: FakeOpenAI) -> None:
    with arena_server(battles_per_ip_per_hour=4) as srv:
        codes = []
        for _ in range(6):
            with httpx.Client(base_url=srv.url) as c:  # a new cookie every time, one IP
                codes.append(c.post("/api/battles", json={"prompt": "hi"}).status_code)
        assert codes == [201] * 4 + [429] * 2


def test_trusted_proxy_header_gives_the_client_ip(arena_server: Any, fake: FakeOpenAI) -> None:
    with arena_server(battles_per_ip_per_hour=1, trusted_proxy_headers=["X-Forwarded-For"]) as srv:
        for ip in ("203.0.113.1", "203.0.113.2"):
            with httpx.Client(base_url=srv.url, headers={"X-Forwarded-For": ip}) as c:
                assert c.post("/api/battles", json={"prompt": "hi"}).status_code == 201
        with httpx.Client(base_url=srv.url, headers={"X-Forwarded-For": "203.0.113.1"}) as c:
            assert c.post("/api/battles", json={"prompt": "hi"}).status_code == 429
    # Without trusting the header, a client cannot pick its own IP.
    with arena_server(battles_per_ip_per_hour=1) as srv:
        for n, ip in enumerate(("203.0.113.1", "203.0.113.2")):
            with httpx.Client(base_url=srv.url, headers={"X-Forwarded-For": ip}) as c:
                assert c.post("/api/battles", json={"prompt": "hi"}).status_code == (
                    201 if n == 0 else 429
                )


def test_daily_cap_on_counted_votes(arena_server: Any, fake: FakeOpenAI) -> None:
    with (
        arena_server(counted_votes_per_voter_per_day=2) as srv,
        httpx.Client(base_url=srv.url) as c,
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
    arena: Any, client: httpx.Client, fake: FakeOpenAI
) -> None:
    battle_id = battle(client)
    cookie = client.cookies["arena_voter"]
    secret = "test-secret-key-0123456789abcdef0123"
    voter_id = URLSafeTimedSerializer(secret, salt="arena-voter").loads(cookie)
    forged = URLSafeTimedSerializer("not-the-secret-key-0123456789abcdef", salt="arena-voter")
    expired = URLSafeTimedSerializer(secret, salt="arena-voter", signer=_LongAgo)
    for bad in (forged.dumps(voter_id), cookie[:-3] + "abc", "garbage", expired.dumps(voter_id)):
        with httpx.Client(base_url=arena.url, cookies={"arena_voter": bad}) as thief:
            r = thief.post(f"/api/battles/{battle_id}/vote", json={"winner": "model_a"})
            assert r.status_code == 403
            # The bad cookie is replaced by a fresh identity.
            assert "arena_voter=" in r.headers["set-cookie"]
            assert bad not in r.headers["set-cookie"]
    assert client.get(f"/api/battles/{battle_id}").json()["status"] == "ready"


# --- the stuffing simulation ---------------------------------------------------------------------


def test_vote_stuffing_moves_the_target_less_than_its_interval(
    arena_server: Any, fake: FakeOpenAI, tmp_path: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    """1,000 votes from one cookie, then 50 fresh cookies from one IP, all for one model."""
    import json

    from arena.admin.battlefiles import import_battles
    from tests.conftest import write_models

    names = {f"m{i}": f"upstream-m{i}" for i in range(5)}
    strengths = dict(zip(names, [1200, 1100, 1000, 900, 800], strict=True))
    for model_id in names.values():
        fake.set_behavior(model_id, Behavior(reply=f"{model_id[-2:]} says: an answer."))
    rng = random.Random(1)
    honest = []
    for i in range(3000):
        a, b = rng.sample(list(names), 2)
        p = 1 / (1 + 10 ** ((strengths[b] - strengths[a]) / 400))
        u = rng.random()
        w = "tie" if u < 0.2 else ("model_a" if rng.random() < p else "model_b")
        honest.append(
            {
                "model_a": a,
                "model_b": b,
                "winner": w,
                "judge": f"h{i % 300}",
                "question_id": f"h{i}",
            }
        )
    seed = tmp_path / "honest.jsonl"
    seed.write_text("".join(json.dumps(r) + "\n" for r in honest))
    target = "m3"
    models = write_models(tmp_path / "models.toml", fake.base_url, names)
    with arena_server(models=models, leaderboard_refresh_seconds=0.3) as srv:
        import_battles(srv.app.state.arena.engine, seed)
        with httpx.Client(base_url=srv.url, timeout=30) as c:
            before = _rating(c, target, 3000)

        def stuff(c: httpx.Client, tries: int) -> tuple[int, int]:
            accepted = limited = 0
            for i in range(tries):
                # A careful attacker varies the prompt, so the repeated-prompt cap does not help.
                r = c.post("/api/battles", json={"prompt": f"Which is best? ({rng.random()}, {i})"})
                if r.status_code == 429:
                    limited += 1
                    continue
                b = r.json()["battle_id"]
                read_events(c, f"/api/battles/{b}/stream")
                state = c.get(f"/api/battles/{b}").json()
                # The target is recognisable by its answer ("m3 says"): the attack this guards
                # against is exactly a voter who can tell the models apart.
                side = "a" if state["turns"][0]["a"]["content"].startswith(target) else "b"
                other = state["turns"][0]["b" if side == "a" else "a"]["content"]
                if not (
                    state["turns"][0][side]["content"].startswith(target)
                    or other.startswith(target)
                ):
                    continue
                v = c.post(f"/api/battles/{b}/vote", json={"winner": f"model_{side}"})
                accepted += v.status_code == 200
            return accepted, limited

        with httpx.Client(base_url=srv.url, timeout=30) as one:
            one_voter = stuff(one, 1000)
        many = [0, 0]
        for _ in range(50):
            with httpx.Client(base_url=srv.url, timeout=30) as fresh:
                got = stuff(fresh, 20)
                many = [many[0] + got[0], many[1] + got[1]]
        with httpx.Client(base_url=srv.url, timeout=30) as c:
            after_data = _leaderboard_after(c)
    after = next(m for m in after_data["models"] if m["model"] == target)
    half_width = (after["ci_upper"] - after["ci_lower"]) / 2
    moved = after["rating"] - before["rating"]
    with capsys.disabled():
        print(
            f"\nvote stuffing for {target}: one voter {one_voter[0]} votes accepted, "
            f"{one_voter[1]} requests limited; 50 cookies on one IP {many[0]} accepted, "
            f"{many[1]} limited; left out {after_data['excluded']}; rating "
            f"{before['rating']:.1f} -> {after['rating']:.1f} (moved {moved:+.1f}), "
            f"95% half-width {half_width:.1f}"
        )
    assert abs(moved) < half_width


def _rating(c: httpx.Client, model: str, battles: int) -> dict[str, Any]:
    deadline = time.monotonic() + 20
    while True:
        r = c.get("/api/leaderboard")
        assert r.status_code == 200, r.text
        data = r.json()
        if data["total_battles"] >= battles or time.monotonic() > deadline:
            return next(m for m in data["models"] if m["model"] == model)
        time.sleep(0.2)


def _leaderboard_after(c: httpx.Client) -> dict[str, Any]:
    """The leaderboard once the refresher has caught up with every vote."""
    deadline = time.monotonic() + 20
    last = None
    while time.monotonic() < deadline:
        data = c.get("/api/leaderboard").json()
        if last is not None and data["generated_at"] == last["generated_at"]:
            time.sleep(1.0)
            again = c.get("/api/leaderboard").json()
            if again["generated_at"] == data["generated_at"]:
                return dict(again)
        last = data
        time.sleep(0.5)
    return dict(last or {})


# --- the moderation hook -------------------------------------------------------------------------


def test_moderation_hook(arena_server: Any, fake: FakeOpenAI) -> None:
    fake.set_moderation(["forbidden"])
    with (
        arena_server(
            moderation_enabled=True, moderation_base_url=fake.base_url, moderation_api_key_env=None
        ) as srv,
        httpx.Client(base_url=srv.url) as c,
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
    arena_server: Any, fake: FakeOpenAI, policy: str, status: int
) -> None:
    fake.set_moderation(["forbidden"], status=500)
    with (
        arena_server(
            moderation_enabled=True, moderation_base_url=fake.base_url, moderation_policy=policy
        ) as srv,
        httpx.Client(base_url=srv.url) as c,
    ):
        r = c.post("/api/battles", json={"prompt": "hello"})
        assert r.status_code == status, r.text
