"""Battle files of vision battles: modality and image hashes in every export, the images as
data: URIs with `--images`, and an import (into a fresh database) that keeps them; on SQLite
and PostgreSQL. The CLI's leaderboard of a file picks its modality too."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from sqlalchemy import update
from sqlmodel import Session, select

from arena.admin.battlefiles import export_battles, import_battles
from arena.store.engine import make_engine, migrate
from arena.store.images import purge_images
from arena.store.tables import Image, Turn, TurnImage, Vote, utcnow
from arena.web.state import arena_state
from tests.conftest import database_for
from tests.fake_openai import FakeOpenAI
from tests.image_samples import data_uri, jpeg_with_gps, png_bytes
from tests.test_cli_models import cli  # noqa: F401
from tests.test_vision_api import vision_client  # noqa: F401
from tests.test_vision_board import play

pytestmark = pytest.mark.usefixtures("vision_client")


@pytest.fixture
def second_database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh database of the same kind as the test's own, to import into."""
    kind = "postgresql" if "postgresql" in request.node.name else "sqlite"
    (tmp_path / "second").mkdir()
    yield from database_for(kind, tmp_path / "second")


def test_round_trip(
    vision_client: httpx.Client,  # noqa: F811
    fake: FakeOpenAI,
    second_database: str,
    tmp_path: Path,
    cli: Callable[..., tuple[int, str]],  # noqa: F811
) -> None:
    photo, png = data_uri(jpeg_with_gps(), "image/jpeg"), data_uri(png_bytes())
    play(vision_client, [photo, png])
    play(vision_client, [png])  # the same image again: stored once
    play(vision_client, [])
    engine = arena_state(vision_client.app).engine  # type: ignore[attr-defined]
    with Session(engine) as s:
        assert len(s.exec(select(Image)).all()) == 2
        originals = {i.sha256: bytes(i.data) for i in s.exec(select(Image)).all()}

    plain, full = tmp_path / "plain.jsonl", tmp_path / "full.jsonl"
    with plain.open("w") as out:
        assert export_battles(engine, out, secret="s" * 32) == 3
    with full.open("w") as out:
        export_battles(engine, out, secret="s" * 32, images=True)
    records = [json.loads(line) for line in plain.read_text().splitlines()]
    assert [r["modality"] for r in records] == ["vision", "vision", "text"]
    assert len(records[0]["images"][0]) == 2 and records[1]["images"] == [
        [records[0]["images"][0][1]]
    ]
    assert "images" not in records[2] and all("image_data" not in r for r in records)
    carried = [json.loads(line) for line in full.read_text().splitlines()]
    assert set(carried[0]["image_data"]) == set(records[0]["images"][0])
    assert all(u.startswith("data:image/") for u in carried[0]["image_data"].values())

    target = make_engine(second_database)
    migrate(target)
    try:
        report = import_battles(target, full)
        assert report.imported == 3 and not report.rejected, report.summary()
        with Session(target) as s:
            stored = {i.sha256: bytes(i.data) for i in s.exec(select(Image)).all()}
            assert stored == originals  # the very bytes, under the same hashes
            assert sorted(v.modality for v in s.exec(select(Vote)).all()) == [
                "text",
                "vision",
                "vision",
            ]
            links = s.exec(
                select(Turn.index, TurnImage.position, TurnImage.sha256).join(
                    TurnImage, TurnImage.turn_id == Turn.id
                )
            ).all()  # type: ignore[arg-type]
            assert len(links) == 3
        # Exported again from the copy: the same records (the import keeps question ids).
        again = tmp_path / "again.jsonl"
        with again.open("w") as out:
            export_battles(target, out, secret="s" * 32, images=True)
        back = [json.loads(line) for line in again.read_text().splitlines()]
        assert [r["images"] for r in back if "images" in r] == [r["images"] for r in records[:2]]
        assert [r["image_data"] for r in back if "image_data" in r] == [
            r["image_data"] for r in carried[:2]
        ]
        # A second import is all duplicates.
        assert import_battles(target, full).duplicates == 3
    finally:
        target.dispose()

    # The CLI ranks a file's vision battles apart from its text ones.
    status, out = cli(
        "leaderboard", "--battles", str(plain), "--modality", "vision", "--format", "json"
    )
    assert status == 0, out
    board = json.loads(out[out.index("{") :])
    assert board["total_battles"] == 2
    status, out = cli("leaderboard", "--battles", str(plain), "--format", "json")
    assert json.loads(out[out.index("{") :])["total_battles"] == 1


def test_retention_deletes_old_images_and_keeps_the_battle(
    vision_client: httpx.Client,  # noqa: F811
    fake: FakeOpenAI,
) -> None:
    battle = play(vision_client, [data_uri(png_bytes())])["battle_id"]
    engine = arena_state(vision_client.app).engine  # type: ignore[attr-defined]
    assert purge_images(engine, older_than=timedelta(days=1)) == 0  # used recently
    with Session(engine) as s:
        s.execute(update(TurnImage).values(created_at=utcnow() - timedelta(days=8)))
        s.execute(update(Image).values(created_at=utcnow() - timedelta(days=8)))
        s.commit()
    assert purge_images(engine, older_than=timedelta(days=7)) == 1
    with Session(engine) as s:
        assert s.exec(select(Image)).all() == [] and len(s.exec(select(TurnImage)).all()) == 1
    assert vision_client.get(f"/battles/{battle}/images/0/0").status_code == 404
    view = vision_client.get(f"/api/battles/{battle}").json()
    assert view["turns"][0]["images"] == 1 and view["status"] == "voted"
