"""Judges in a running arena: judged in the background after a battle, never in the voter's way;
`GET /api/judges`, the Judges page, the boards' `votes` switch, the admin's judge prompt."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import httpx
import tomli_w
from sqlmodel import Session

from arena.judges.stats import judge_stats
from arena.store.judge_tables import Judgement
from arena.store.tables import Endpoint
from tests.conftest import MODELS, read_events
from tests.fake_openai import Behavior, FakeOpenAI
from tests.judging import add_battle, add_endpoints, judge_all, judgements
from tests.test_judges import prefers

ADMIN = {"Authorization": "Bearer test-admin-token-0123"}


def models_with_judge(tmp_path: Path, base_url: str) -> Path:
    entries: list[dict[str, Any]] = [
        {"name": n, "base_url": base_url, "model": m} for n, m in MODELS.items()
    ]
    entries.append(
        {
            "name": "judge",
            "base_url": base_url,
            "model": "up-judge",
            "judge": True,
            "enabled": False,
        }
    )
    path = tmp_path / "judged-models.toml"
    path.write_text(tomli_w.dumps({"models": entries}))
    return path


def battle(client: httpx.Client, winner: str | None = "model_a") -> str:
    r = client.post("/api/battles", json={"prompt": "Name a colour"})
    assert r.status_code == 201, r.text
    bid = str(r.json()["battle_id"])
    events = read_events(client, f"/api/battles/{bid}/stream")
    assert events[-1] == ("end", '{"status": "ready"}') or '"ready"' in events[-1][1]
    if winner:
        vote = client.post(f"/api/battles/{bid}/vote", json={"winner": winner})
        assert vote.status_code == 200, vote.text
    return bid


def board_total(client: httpx.Client, query: str) -> int:
    """The board's battle count once it is fresh (a board refits in the background)."""
    deadline = time.monotonic() + 10
    while True:
        data = client.get(f"/api/leaderboard{query}").json()
        if data.get("total_battles") or time.monotonic() > deadline:
            return int(data["total_battles"])
        time.sleep(0.2)


def wait_for(engine: Any, bid: str, status: set[str], timeout: float = 30.0) -> list[Judgement]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        rows = judgements(engine, battle_id=bid)
        if len(rows) == 2 and {r.status for r in rows} <= status:
            return rows
        time.sleep(0.1)
    raise AssertionError(f"battle {bid} was not judged in {timeout} s: {judgements(engine)}")


def test_a_finished_battle_is_judged_in_the_background(
    arena_server: Any, fake: FakeOpenAI, tmp_path: Path
) -> None:
    fake.set_behavior("up-judge", Behavior(replies=("[[A>>B]]", "[[A=B]]")))
    models = models_with_judge(tmp_path, fake.base_url)
    with arena_server(models=models, judge_poll_seconds=0.2) as srv:
        client = srv.client()
        bid = battle(client)
        engine = srv.app.state.arena.engine
        rows = wait_for(engine, bid, {"done"})
        assert sorted(r.verdict or "" for r in rows) == ["A=B", "A>>B"]
        assert len(fake.requests_for("up-judge")) == 2
        # The judge is never a contestant (enabled = false), and nothing reaches the voter.
        state = client.get(f"/api/battles/{bid}").json()
        assert "judge" not in str(state).replace('"judge"', "")
        api = client.get("/api/judges")
        assert api.status_code == 200
        (j,) = api.json()["judges"]
        assert j["judge"] == "judge" and j["battles"] == 1 and j["verdicts"] == 2
        assert j["human_agreement"] is not None
        assert board_total(client, "") == 1  # the human board: the one vote
        assert board_total(client, "?votes=judges") == 2  # the judge's two verdicts
        assert board_total(client, "?votes=all") == 3
        assert client.get("/api/leaderboard?votes=robots").status_code == 422
        page = client.get("/judges")
        assert page.status_code == 200 and "Position consistency" in page.text
        assert "<svg" in page.text  # the confusion matrix
        csv = client.get("/leaderboard.csv?votes=judges")
        assert csv.status_code == 200 and "alpha" in csv.text
        board = client.get("/leaderboard?votes=all")
        assert board.status_code == 200 and "votes and LLM judges" in board.text


def test_a_failing_judge_never_blocks_a_voter(
    arena_server: Any, fake: FakeOpenAI, tmp_path: Path
) -> None:
    fake.set_behavior("up-judge", Behavior(status=503))
    models = models_with_judge(tmp_path, fake.base_url)
    with arena_server(
        models=models, judge_poll_seconds=0.1, judge_retry_seconds=0, judge_max_attempts=2
    ) as srv:
        client = srv.client()
        bid = battle(client, winner=None)
        rows = wait_for(srv.app.state.arena.engine, bid, {"failed"})
        assert all(r.attempts == 2 for r in rows)
        vote = client.post(f"/api/battles/{bid}/vote", json={"winner": "tie"})
        assert vote.status_code == 200  # the battle is untouched by its judge's failures
        assert client.get(f"/api/battles/{bid}").json()["status"] == "voted"


def test_judging_can_be_turned_off(arena_server: Any, fake: FakeOpenAI, tmp_path: Path) -> None:
    models = models_with_judge(tmp_path, fake.base_url)
    with arena_server(models=models, judge_poll_seconds=0.1, judging_enabled=False) as srv:
        battle(srv.client())
        time.sleep(0.5)
        assert not fake.requests_for("up-judge")


def test_the_judge_flag_and_the_judge_prompt(arena_server: Any, fake: FakeOpenAI) -> None:
    from arena.judges.prompt import current_prompt, default_prompt, save_prompt

    fake.set_behavior("up-j2", Behavior(reply="[[B>A]]"))
    with arena_server(judge_poll_seconds=0.1) as srv:
        engine = srv.app.state.arena.engine
        client = srv.client(headers=ADMIN)
        r = client.post(
            "/api/admin/models",
            json={"name": "j2", "base_url": fake.base_url, "model": "up-j2", "judge": True},
        )
        assert r.status_code == 201 and r.json()["judge"] is True
        assert "[[A>>B]]" in default_prompt() and current_prompt(engine) == default_prompt()
        try:
            save_prompt(engine, "Judge, but without labels")
            raise AssertionError("a prompt without labels was saved")
        except ValueError:
            pass
        save_prompt(engine, "Be terse. End with [[A>>B]], [[A>B]], [[A=B]], [[B>A]] or [[B>>A]].")
        r = client.patch("/api/admin/models/j2", json={"judge": False, "enabled": False})
        assert r.status_code == 200 and r.json()["judge"] is False
        r = client.patch("/api/admin/models/j2", json={"judge": True})
        bid = battle(srv.client())
        rows = wait_for(engine, bid, {"done"})
        sent = fake.requests_for("up-j2")[-1].messages or []
        assert sent[0]["content"].startswith("Be terse.")  # the admin's prompt, not the default
        assert {r.outcome for r in rows} == {"model_a", "model_b"}  # "B" shown first, then not
        save_prompt(engine, "")
        assert current_prompt(engine) == default_prompt()


def test_consistency_agreement_and_kappa_on_known_cases(db: Any, fake: FakeOpenAI) -> None:
    ids = add_endpoints(db, fake.base_url, alpha=False, beta=False, gamma=False, judge=True)
    a, b, g = ids["alpha"], ids["beta"], ids["gamma"]

    # Scripted per battle: the judge prefers the answer with "WIN" in it, always (consistent),
    # except on "flip" battles where it prefers whatever is shown first (inconsistent → tie).
    def reply(messages: list[dict[str, Any]]) -> str:
        text = str(messages[-1]["content"])
        if "flip" in text:
            return "[[A>B]]"
        return prefers("WIN")(messages)

    fake.set_behavior("up-judge", Behavior(reply=reply))
    cases = [
        (a, b, "WIN", "lose", "model_a"),  # judge a, human a: agree
        (a, g, "WIN", "lose", "model_a"),  # agree
        (b, g, "lose", "WIN", "model_b"),  # agree
        (g, a, "lose", "WIN", "model_a"),  # judge b, human a: disagree
        (a, b, "flip", "flip", "tie"),  # judge tie (inconsistent), human tie: agree
        (b, g, "flip", "flip", "model_a"),  # judge tie, human a: disagree
    ]
    for i, (x, y, ans_x, ans_y, winner) in enumerate(cases):
        add_battle(db, x, y, prompt=f"q{i}", answer_a=ans_x, answer_b=ans_y, winner=winner)
    add_battle(db, a, b, prompt="no vote", answer_a="WIN", answer_b="x")  # judged, not compared
    judge_all(db)
    (s,) = judge_stats(db)
    assert s["battles"] == 7 and s["verdicts"] == 14
    assert s["consistency_battles"] == 7
    assert s["position_consistency"] == 5 / 7
    assert s["agreement_battles"] == 6
    assert s["human_agreement"] == 4 / 6
    # Human rows (a, tie, b) × judge columns: a→a 2, a→b 1, a→tie 1, tie→tie 1, b→b 1.
    assert s["confusion"] == [[2, 1, 1], [0, 1, 0], [0, 0, 1]]
    po, pe = 4 / 6, (4 * 2 + 1 * 2 + 1 * 2) / 36
    assert abs(s["kappa"] - (po - pe) / (1 - pe)) < 1e-12
    assert s["spearman_vs_human"] is not None
    with Session(db) as session:
        assert session.get(Endpoint, ids["judge"]) is not None
