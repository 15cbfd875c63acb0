"""LLM judges: both orders asked, the five labels, no verdict, failures, self-judging, boards."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import Engine
from sqlmodel import Session

from arena.judges.verdicts import LABELS, last_label, verdict
from arena.store.tables import Battle, Endpoint
from arena.votes.board import compute_payload
from arena.votes.board_options import LeaderboardOptions, RankingConfig
from arena.votes.hygiene import HygieneRules
from tests.fake_openai import Behavior, FakeOpenAI
from tests.judging import FAST, add_battle, add_endpoints, judge_all, judgements


def shown_a(messages: list[dict[str, Any]]) -> str:
    """The answer the judge was shown as Assistant A's."""
    text = str(messages[-1]["content"])
    return text.split("<|The Start of Assistant A's Answer|>\n", 1)[1].split("\n<|The End", 1)[0]


def prefers(word: str, label_for_a: str = "[[A>B]]", label_for_b: str = "[[B>A]]") -> Any:
    """A judge that prefers the answer containing `word`, wherever it is shown."""

    def reply(messages: list[dict[str, Any]]) -> str:
        first = shown_a(messages)
        return f"Reasoning… {label_for_a if word in first else label_for_b}"

    return reply


@pytest.mark.parametrize(
    ("reply", "swapped", "expected"),
    [
        ("[[A>>B]]", False, ("A>>B", "model_a", True)),
        ("[[A>B]]", False, ("A>B", "model_a", False)),
        ("[[A=B]]", False, ("A=B", "tie", False)),
        ("[[B>A]]", False, ("B>A", "model_b", False)),
        ("[[B>>A]]", False, ("B>>A", "model_b", True)),
        ("[[A>>B]]", True, ("A>>B", "model_b", True)),
        ("[[B>A]]", True, ("B>A", "model_a", False)),
        ("first [[A>B]] then on reflection [[B>>A]]", False, ("B>>A", "model_b", True)),
        ("[[ A<B ]]", False, ("B>A", "model_b", False)),
    ],
)
def test_the_last_label_counts(reply: str, swapped: bool, expected: tuple[str, str, bool]) -> None:
    v = verdict(reply, swapped=swapped)
    assert v is not None and (v.label, v.outcome, v.strong) == expected


@pytest.mark.parametrize("reply", ["", "A is better", "[[C]]", "[A>B]", "[[A>B>B]]"])
def test_no_label_is_no_verdict(reply: str) -> None:
    assert last_label(reply) is None and verdict(reply, swapped=False) is None


def test_all_five_labels_are_known() -> None:
    assert [last_label(f"x [[{label}]]") for label in LABELS] == list(LABELS)


def test_both_orders_are_asked(db: Engine, fake: FakeOpenAI) -> None:
    ids = add_endpoints(db, fake.base_url, alpha=False, beta=False, judge=True)
    fake.set_behavior("up-judge", Behavior(reply=prefers("GOOD")))
    bid = add_battle(db, ids["alpha"], ids["beta"], answer_a="GOOD answer", answer_b="weak answer")
    judge_all(db)
    asked = fake.requests_for("up-judge")
    assert len(asked) == 2
    firsts = sorted(shown_a(r.messages or []) for r in asked)
    assert firsts == ["GOOD answer", "weak answer"]  # each answer shown first once
    rows = judgements(db, battle_id=bid)
    assert [(r.swapped, r.verdict, r.outcome, r.status) for r in rows] == [
        (False, "A>B", "model_a", "done"),
        (True, "B>A", "model_a", "done"),
    ]
    assert all("Say hello" in r.prompt and f"[[{r.verdict}]]" in (r.reply or "") for r in rows)
    judge_all(db)  # judged once: a second pass asks nothing more
    assert len(fake.requests_for("up-judge")) == 2


def test_a_reply_without_label_is_recorded_as_no_verdict(db: Engine, fake: FakeOpenAI) -> None:
    ids = add_endpoints(db, fake.base_url, alpha=False, beta=False, judge=True)
    fake.set_behavior("up-judge", Behavior(replies=("I cannot decide.", "[[A=B]]")))
    bid = add_battle(db, ids["alpha"], ids["beta"])
    judge_all(db)
    rows = judgements(db, battle_id=bid)
    assert [(r.status, r.verdict, r.outcome) for r in rows] == [
        ("done", None, None),
        ("done", "A=B", "tie"),
    ]
    assert rows[0].reply == "I cannot decide." and rows[0].error


def test_a_failing_judge_neither_blocks_nor_fails_the_battle(db: Engine, fake: FakeOpenAI) -> None:
    ids = add_endpoints(db, fake.base_url, alpha=False, beta=False, judge=True)
    fake.set_behavior("up-judge", Behavior(status=500))
    bid = add_battle(db, ids["alpha"], ids["beta"], winner="model_a")
    judge_all(db)
    rows = judgements(db, battle_id=bid)
    assert [r.status for r in rows] == ["failed", "failed"]
    assert all(r.attempts == FAST.max_attempts and r.outcome is None for r in rows)
    with Session(db) as s:
        battle = s.get(Battle, bid)
        judge = s.get(Endpoint, ids["judge"])
        assert battle is not None and battle.status == "ready"
        assert judge is not None and judge.consecutive_failures >= 2
    payload = compute_payload(db, LeaderboardOptions(), RankingConfig(min_battles=0))
    assert payload["leaderboard"]["total_battles"] == 1


def test_boards_are_kept_apart(db: Engine, fake: FakeOpenAI) -> None:
    ids = add_endpoints(db, fake.base_url, alpha=False, beta=False, judge=True)
    # People prefer alpha; the judge prefers beta's answers.
    fake.set_behavior("up-judge", Behavior(reply=prefers("from beta")))
    for i in range(6):
        add_battle(
            db,
            ids["alpha"],
            ids["beta"],
            prompt=f"question {i}",
            answer_a="from alpha",
            answer_b="from beta",
            winner="model_a",
        )
    judge_all(db)
    config = RankingConfig(min_battles=0, hygiene=HygieneRules(False, 20, False))

    def board(votes: str) -> dict[str, Any]:
        lb = compute_payload(db, LeaderboardOptions(votes=votes), config)["leaderboard"]  # type: ignore[arg-type]
        return {m["model"]: m for m in lb["models"]} | {"_total": lb["total_battles"]}

    human, judges, both = board("human"), board("judges"), board("all")
    assert human["_total"] == 6 and human["alpha"]["rating"] > human["beta"]["rating"]
    assert judges["_total"] == 12 and judges["beta"]["rating"] > judges["alpha"]["rating"]
    assert both["_total"] == 18
    assert "judge" not in human and "judge" not in judges  # a judge is not a contestant


def test_a_judge_is_left_out_of_its_own_battles(db: Engine, fake: FakeOpenAI) -> None:
    ids = add_endpoints(db, fake.base_url, alpha=False, beta=False, judge=True)
    with Session(db) as s:  # alpha judges too: its verdicts on its own battles must not count
        alpha = s.get(Endpoint, ids["alpha"])
        assert alpha is not None
        alpha.judge = True
        s.add(alpha)
        s.commit()
    fake.set_behavior("up-alpha", Behavior(reply="[[A>>B]]"))
    fake.set_behavior("up-judge", Behavior(reply="[[A=B]]"))
    add_battle(db, ids["alpha"], ids["beta"])
    judge_all(db)
    assert len(judgements(db, judge_id=ids["alpha"], status="done")) == 2
    lb = compute_payload(db, LeaderboardOptions(votes="judges"), RankingConfig(min_battles=0))[
        "leaderboard"
    ]
    assert lb["total_battles"] == 2  # only the other judge's two ties
    assert lb["excluded"]["self_judged"] == 2
    assert {m["ties"] for m in lb["models"]} == {2}
