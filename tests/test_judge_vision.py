"""LLM judges and battles with images: a judge sees the images or is not asked, and its verdicts
rank on the board of the battle's modality, as the battle's votes do."""

from __future__ import annotations

import base64
from typing import Any

from sqlalchemy import Engine, delete
from sqlmodel import Session, select

from arena.core.rules import ImageRules
from arena.images.clean import clean_image
from arena.judges.queue import battle_subject, insert_jobs, job
from arena.store.images import save_images
from arena.store.tables import Endpoint, Image, Turn, Vote
from arena.votes.board import compute_payload
from arena.votes.board_options import LeaderboardOptions, RankingConfig
from arena.votes.hygiene import HygieneRules
from tests.fake_openai import Behavior, FakeOpenAI
from tests.image_samples import png_bytes
from tests.judging import add_battle, judge_all, judgements

CONFIG = RankingConfig(min_battles=0, hygiene=HygieneRules(False, 20, False))


def endpoints(engine: Engine, base_url: str) -> dict[str, int]:
    """Two vision contestants, a judge that reads text only and one that sees images."""
    with Session(engine) as s:
        for name, judge, vision in (
            ("alpha", False, True),
            ("beta", False, True),
            ("reader", True, False),
            ("seer", True, True),
        ):
            s.add(
                Endpoint(
                    name=name,
                    base_url=base_url,
                    model=f"up-{name}",
                    judge=judge,
                    enabled=not judge,
                    vision=vision,
                )
            )
        s.commit()
        return {e.name: e.id or 0 for e in s.exec(select(Endpoint)).all()}


def add_images(engine: Engine, battle_id: str, *colours: str) -> None:
    """The battle's first turn carried these images (and its vote is a vision vote)."""
    rules = ImageRules()
    with Session(engine) as s:
        turn = s.exec(select(Turn).where(Turn.battle_id == battle_id)).one()
        save_images(
            s, [(turn.id or 0, [clean_image(png_bytes((20, 20), c), rules) for c in colours])]
        )
        for vote in s.exec(select(Vote).where(Vote.battle_id == battle_id)).all():
            vote.modality = "vision"
            s.add(vote)
        s.commit()


def image_urls(messages: list[dict[str, Any]]) -> list[str]:
    content = messages[-1]["content"]
    if isinstance(content, str):
        return []
    return [p["image_url"]["url"] for p in content if p["type"] == "image_url"]


def text_of(messages: list[dict[str, Any]]) -> str:
    content = messages[-1]["content"]
    if isinstance(content, str):
        return content
    return "".join(p["text"] for p in content if p["type"] == "text")


def test_a_judge_sees_the_images_or_is_not_asked(db: Engine, fake: FakeOpenAI) -> None:
    ids = endpoints(db, fake.base_url)
    for name in ("up-reader", "up-seer"):
        fake.set_behavior(name, Behavior(reply="Fine. [[A>B]]"))
    text = add_battle(db, ids["alpha"], ids["beta"], prompt="Say hello", winner="model_a")
    picture = add_battle(
        db, ids["alpha"], ids["beta"], prompt="What is in these?", winner="model_b"
    )
    add_images(db, picture, "red", "blue")
    judge_all(db)

    reader = fake.requests_for("up-reader")
    assert len(reader) == 2  # both orders of the text battle, nothing of the picture one
    assert all("Say hello" in text_of(r.messages or []) for r in reader)
    assert all(image_urls(r.messages or []) == [] for r in reader)
    assert judgements(db, battle_id=picture, judge_id=ids["reader"]) == []
    assert [r.status for r in judgements(db, battle_id=text, judge_id=ids["reader"])] == [
        "done",
        "done",
    ]

    seer = fake.requests_for("up-seer")
    assert len(seer) == 4
    shown = [r for r in seer if "What is in these?" in text_of(r.messages or [])]
    assert len(shown) == 2
    for r in shown:
        urls = image_urls(r.messages or [])
        assert len(urls) == 2 and all(u.startswith("data:image/png;base64,") for u in urls)
        assert base64.b64decode(urls[0].split(",", 1)[1]).startswith(b"\x89PNG")
        assert "[<image 1> <image 2>: attached below, in this order]" in text_of(r.messages or [])
    rows = judgements(db, battle_id=picture, judge_id=ids["seer"])
    assert [r.status for r in rows] == ["done", "done"]
    # The judgement records the text the judge read, not the images' bytes.
    assert all("<image 2>" in r.prompt and "base64" not in r.prompt for r in rows)


def test_judgements_rank_on_the_board_of_their_battle(db: Engine, fake: FakeOpenAI) -> None:
    ids = endpoints(db, fake.base_url)
    fake.set_behavior("up-reader", Behavior(reply="[[A>B]]"))
    fake.set_behavior("up-seer", Behavior(reply="[[A>B]]"))
    for i in range(3):
        add_battle(db, ids["alpha"], ids["beta"], prompt=f"text {i}", winner="model_a")
    for i in range(2):
        bid = add_battle(db, ids["alpha"], ids["beta"], prompt=f"photo {i}", winner="model_b")
        add_images(db, bid, "green")
    judge_all(db)

    def total(**opts: Any) -> int:
        board = compute_payload(db, LeaderboardOptions(**opts), CONFIG)["leaderboard"]
        return int(board["total_battles"])

    # Text: 3 battles × 2 orders × 2 judges; vision: 2 battles × 2 orders × the seer only.
    assert total(votes="judges") == 12
    assert total(votes="judges", modality="vision") == 4
    assert total(votes="human") == 3 and total(votes="human", modality="vision") == 2
    assert total(votes="all") == 15 and total(votes="all", modality="vision") == 6


def test_a_queued_job_of_a_blind_judge_on_a_picture_is_not_run(
    db: Engine, fake: FakeOpenAI
) -> None:
    """A job queued for a judge without vision (before it was turned off, or by an older
    version) fails with the reason instead of ranking answers about unseen images."""
    ids = endpoints(db, fake.base_url)
    picture = add_battle(db, ids["alpha"], ids["beta"], winner="model_a")
    add_images(db, picture, "red")
    insert_jobs(
        db,
        [
            job(
                battle_subject(picture),
                ids["reader"],
                ids["alpha"],
                ids["beta"],
                False,
                battle_id=picture,
            )
        ],
    )
    judge_all(db)
    rows = judgements(db, battle_id=picture, judge_id=ids["reader"])
    assert [r.status for r in rows] == ["failed"]
    assert "cannot see them" in (rows[0].error or "")
    assert fake.requests_for("up-reader") == []


def test_a_picture_whose_images_are_gone_is_not_judged(db: Engine, fake: FakeOpenAI) -> None:
    ids = endpoints(db, fake.base_url)
    picture = add_battle(db, ids["alpha"], ids["beta"], winner="model_a")
    add_images(db, picture, "red")
    with Session(db) as s:  # what image retention does: the bytes go, the links stay
        s.exec(delete(Image))  # type: ignore[call-overload]
        s.commit()
    judge_all(db)
    rows = judgements(db, battle_id=picture, judge_id=ids["seer"])
    assert [r.status for r in rows] == ["failed", "failed"]
    assert all("no longer stored" in (r.error or "") for r in rows)
    assert fake.requests_for("up-seer") == []
    assert (
        compute_payload(db, LeaderboardOptions(votes="judges", modality="vision"), CONFIG)[
            "leaderboard"
        ]["total_battles"]
        == 0
    )
