"""The vote-stuffing simulation: one cookie, then many fresh cookies on one IP, all for one model.

Honest votes (an imported file, Bradley-Terry outcomes of five models of known strength) meet an
attacker who can tell the target model by its answers and votes for it whenever it is drawn, as
fast as the arena lets them: first with one cookie, then with a fresh cookie every few tries, all
from one IP. What the arena has against it: the rate limits (per voter and per IP) and the vote
hygiene at ranking time. The claim checked is that the target moves less than its 95% interval.

`tests/test_integrity.py` runs it at a third of the scale on every run;
`benchmarks/vote_stuffing.py` runs it at full scale, with the arena's default limits, and prints
the figures.
"""

from __future__ import annotations

import dataclasses
import json
import random
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import tomli_w

from arena.admin.battlefiles import import_battles
from arena.votes.board import compute_payload
from arena.votes.board_options import LeaderboardOptions
from arena.votes.hygiene import HygieneRules
from tests.conftest import read_events
from tests.fake_openai import Behavior, FakeOpenAI
from tests.inproc import RunningArena

NAMES = {f"m{i}": f"upstream-m{i}" for i in range(5)}
STRENGTHS = dict(zip(NAMES, [1200, 1100, 1000, 900, 800], strict=True))
TARGET = "m3"


@dataclass(frozen=True)
class Plan:
    """The honest votes and the attack. The defaults are the full simulation, against the arena's
    default limits (60 battles and votes per voter an hour, 300 per IP)."""

    honest: int = 3000
    per_voter: int = 60
    per_ip: int = 300
    one_voter_tries: int = 1000
    cookies: int = 50
    tries_per_cookie: int = 20

    def scaled(self, k: int) -> Plan:
        """The same simulation k times smaller: limits, tries and cookies / k, honest votes / k².

        The stuffed votes then shrink k-fold and the target's honest battles k²-fold, so that what
        the stuffing would move the target by, measured in its (k times wider) interval, stays
        the same: the smaller run tells the defences at work from an attack too small to matter.
        """
        return Plan(
            honest=self.honest // (k * k),
            per_voter=self.per_voter // k,
            per_ip=self.per_ip // k,
            one_voter_tries=self.one_voter_tries // k,
            cookies=-(-self.cookies // k),
            tries_per_cookie=self.tries_per_cookie,
        )

    def settings(self) -> dict[str, Any]:
        """The arena settings of this plan."""
        return {
            "battles_per_voter_per_hour": self.per_voter,
            "votes_per_voter_per_hour": self.per_voter,
            "battles_per_ip_per_hour": self.per_ip,
            "votes_per_ip_per_hour": self.per_ip,
            "leaderboard_refresh_seconds": 0.3,
        }


@dataclass(frozen=True)
class Outcome:
    """What the attack got and what the leaderboard made of it."""

    one_voter: tuple[int, int]  # (votes accepted, requests limited) of the one cookie
    many: tuple[int, int]  # the same for the fresh cookies together
    started: int  # battles the attacker got to start
    before: dict[str, Any]  # the target's leaderboard row before the attack
    after: dict[str, Any]  # ... and after it
    excluded: dict[str, int]  # what the hygiene left out after the attack
    unprotected: tuple[float, float]  # the target's rating before/after with no hygiene

    @property
    def moved(self) -> float:
        return float(self.after["rating"] - self.before["rating"])

    @property
    def half_width(self) -> float:
        """The half-width of the target's 95% interval after the attack."""
        return float(self.after["ci_upper"] - self.after["ci_lower"]) / 2

    @property
    def unprotected_moved(self) -> float:
        """How far the stuffed votes move the target when all are counted (no hygiene)."""
        return self.unprotected[1] - self.unprotected[0]

    def report(self) -> str:
        return (
            f"vote stuffing for {TARGET}: one voter {self.one_voter[0]} votes accepted, "
            f"{self.one_voter[1]} requests limited; fresh cookies on one IP {self.many[0]} "
            f"accepted, {self.many[1]} limited ({self.started} battles started); left out "
            f"{self.excluded}; rating {self.before['rating']:.1f} -> {self.after['rating']:.1f} "
            f"(moved {self.moved:+.1f}), 95% half-width {self.half_width:.1f}; without hygiene "
            f"it would have moved {self.unprotected_moved:+.1f}"
        )


def prepare(fake: FakeOpenAI, directory: Path) -> Path:
    """Five models on the fake upstream, each answer starting with its name; their models file."""
    for model_id in NAMES.values():
        fake.set_behavior(model_id, Behavior(reply=f"{model_id[-2:]} says: an answer."))
    path = directory / "stuffing-models.toml"
    entries = [{"name": n, "base_url": fake.base_url, "model": m} for n, m in NAMES.items()]
    path.write_text(tomli_w.dumps({"models": entries}))
    return path


def honest_file(directory: Path, n: int, seed: int = 1) -> Path:
    """n honest votes (ten per judge, 20% ties) from the known strengths, as a JSON-lines file."""
    rng = random.Random(seed)
    rows = []
    for i in range(n):
        a, b = rng.sample(list(NAMES), 2)
        p = 1 / (1 + 10 ** ((STRENGTHS[b] - STRENGTHS[a]) / 400))
        u = rng.random()
        w = "tie" if u < 0.2 else ("model_a" if rng.random() < p else "model_b")
        rows.append(
            {"model_a": a, "model_b": b, "winner": w, "judge": f"h{i % max(1, n // 10)}"}
            | {"question_id": f"h{i}"}
        )
    path = directory / "honest.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def simulate(srv: RunningArena, plan: Plan, honest: Path, seed: int = 1) -> Outcome:
    """Import the honest votes into a running arena (no votes yet, the models of `prepare`, the
    settings of `plan`), stuff, and read the leaderboard before and after."""
    rng = random.Random(seed)
    engine = srv.app.state.arena.engine
    import_battles(engine, honest)
    with srv.client() as c:
        before = _row(_leaderboard(c, plan.honest), TARGET)
    unprotected_before = _unprotected_rating(srv)
    started = 0

    def stuff(c: httpx.Client, tries: int) -> tuple[int, int]:
        nonlocal started
        accepted = limited = 0
        for i in range(tries):
            # A careful attacker varies the prompt, so the repeated-prompt cap does not help.
            r = c.post("/api/battles", json={"prompt": f"Which is best? ({rng.random()}, {i})"})
            if r.status_code == 429:
                limited += 1
                continue
            assert r.status_code == 201, r.text
            started += 1
            b = r.json()["battle_id"]
            read_events(c, f"/api/battles/{b}/stream")
            state = c.get(f"/api/battles/{b}").json()
            # The target is recognisable by its answer ("m3 says"): the attack this guards
            # against is exactly a voter who can tell the models apart.
            side = "a" if state["turns"][0]["a"]["content"].startswith(TARGET) else "b"
            other = state["turns"][0]["b" if side == "a" else "a"]["content"]
            if not (
                state["turns"][0][side]["content"].startswith(TARGET) or other.startswith(TARGET)
            ):
                continue
            v = c.post(f"/api/battles/{b}/vote", json={"winner": f"model_{side}"})
            accepted += v.status_code == 200
        return accepted, limited

    with srv.client() as one:
        one_voter = stuff(one, plan.one_voter_tries)
    many = (0, 0)
    for _ in range(plan.cookies):
        with srv.client() as fresh:
            got = stuff(fresh, plan.tries_per_cookie)
            many = (many[0] + got[0], many[1] + got[1])
    with srv.client() as c:
        after_data = _leaderboard_after(c)
    return Outcome(
        one_voter=one_voter,
        many=many,
        started=started,
        before=before,
        after=_row(after_data, TARGET),
        excluded=after_data["excluded"],
        unprotected=(unprotected_before, _unprotected_rating(srv)),
    )


def _unprotected_rating(srv: RunningArena) -> float:
    """The target's rating computed now as the arena does, but with no hygiene rule."""
    config = dataclasses.replace(
        srv.app.state.arena.ranking,
        hygiene=HygieneRules(repeated_prompts=False, anomalous_voters=False),
    )
    data = compute_payload(srv.app.state.arena.engine, LeaderboardOptions(), config)["leaderboard"]
    return float(_row(data, TARGET)["rating"])


def _row(data: dict[str, Any], model: str) -> dict[str, Any]:
    return dict(next(m for m in data["models"] if m["model"] == model))


def _leaderboard(c: httpx.Client, battles: int) -> dict[str, Any]:
    """The leaderboard once it counts `battles` battles (or after 20 s)."""
    deadline = time.monotonic() + 20
    while True:
        r = c.get("/api/leaderboard")
        assert r.status_code == 200, r.text
        data: dict[str, Any] = r.json()
        if data["total_battles"] >= battles or time.monotonic() > deadline:
            return data
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
