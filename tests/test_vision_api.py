"""Vision battles through the JSON API: images reach vision models only, as data: URIs with
the history on follow-ups, without their metadata; bad images are refused and leave nothing."""

from __future__ import annotations

import base64
import io
from pathlib import Path
from typing import Any

import httpx
import pytest
import tomli_w
from PIL import Image
from sqlmodel import Session, func, select

from arena.store.tables import Battle, TurnImage, Vote
from arena.store.tables import Image as ImageRow
from arena.web.state import arena_state
from tests.conftest import ArenaServer, read_events
from tests.fake_openai import FakeOpenAI
from tests.image_samples import GPS_IFD, data_uri, jpeg_with_gps, png_bomb, png_bytes

TEXT = {"alpha": "upstream-alpha-7b", "beta": "upstream-beta-13b"}
VISION = {"eye": "upstream-eye-vl", "lens": "upstream-lens-vl"}


def models_file(path: Path, base_url: str, vision: dict[str, str] = VISION) -> Path:
    """Two text models and the given vision models on the fake upstream."""
    entries: list[dict[str, Any]] = [
        {"name": n, "base_url": base_url, "model": m} for n, m in TEXT.items()
    ] + [{"name": n, "base_url": base_url, "model": m, "vision": True} for n, m in vision.items()]
    path.write_text(tomli_w.dumps({"models": entries}))
    return path


@pytest.fixture
def vision_client(arena_server: ArenaServer, fake: FakeOpenAI, tmp_path: Path) -> Any:
    models = models_file(tmp_path / "models.toml", fake.base_url)
    with arena_server(models=models) as srv, srv.client() as c:
        yield c


def image_parts(message: dict[str, Any]) -> list[str]:
    content = message["content"]
    assert isinstance(content, list), content
    return [p["image_url"]["url"] for p in content if p["type"] == "image_url"]


def decode(uri: str) -> Image.Image:
    head, b64 = uri.split(",", 1)
    assert head.startswith("data:image/") and head.endswith(";base64")
    return Image.open(io.BytesIO(base64.b64decode(b64)))


def test_images_reach_vision_models_with_history(
    vision_client: httpx.Client, fake: FakeOpenAI
) -> None:
    for _ in range(6):  # the draw is random: text models must never be drawn
        fake.reset()
        r = vision_client.post(
            "/api/battles",
            json={"prompt": "What is in this picture?", "images": [data_uri(png_bytes())]},
        )
        assert r.status_code == 201, r.text
        battle = r.json()["battle_id"]
        read_events(vision_client, f"/api/battles/{battle}/stream")
        asked = {req.model for req in fake.chat_requests}
        assert asked == set(VISION.values())
    for req in fake.chat_requests:
        [user] = req.messages or []
        assert user["content"][0] == {"type": "text", "text": "What is in this picture?"}
        [url] = image_parts(user)
        assert url.startswith("data:image/png;base64,")
        assert decode(url).size == (32, 24)
    view = vision_client.get(f"/api/battles/{battle}").json()
    assert view["turns"][0]["images"] == 1

    # A follow-up with another image: the whole history goes again, images included.
    fake.reset()
    second = data_uri(png_bytes((8, 8), "green"))
    r = vision_client.post(
        f"/api/battles/{battle}/turns", json={"prompt": "And this one?", "images": [second]}
    )
    assert r.status_code == 202, r.text
    read_events(vision_client, f"/api/battles/{battle}/stream")
    for req in fake.chat_requests:
        first, answer, follow = req.messages or []
        assert len(image_parts(first)) == 1 and answer["role"] == "assistant"
        [url] = image_parts(follow)
        assert decode(url).size == (8, 8)
    # A follow-up without images is plain text, the history keeps its parts.
    fake.reset()
    r = vision_client.post(f"/api/battles/{battle}/turns", json={"prompt": "Thanks"})
    read_events(vision_client, f"/api/battles/{battle}/stream")
    last = (fake.chat_requests[0].messages or [])[-1]
    assert last == {"role": "user", "content": "Thanks"}
    view = vision_client.get(f"/api/battles/{battle}").json()
    assert [t["images"] for t in view["turns"]] == [1, 1, 0]
    # The voter sees their images; nobody else does.
    assert vision_client.get(f"/battles/{battle}/images/0/0").headers["content-type"] == (
        "image/png"
    )
    assert vision_client.get(f"/battles/{battle}/images/0/1").status_code == 404

    r = vision_client.post(f"/api/battles/{battle}/vote", json={"winner": "tie"})
    assert r.status_code == 200 and {r.json()["model_a"], r.json()["model_b"]} == set(VISION)


def test_text_battles_draw_from_every_model(vision_client: httpx.Client, fake: FakeOpenAI) -> None:
    seen: set[str] = set()
    for _ in range(30):
        r = vision_client.post("/api/battles", json={"prompt": "hi"})
        assert r.status_code == 201
        battle = r.json()["battle_id"]
        read_events(vision_client, f"/api/battles/{battle}/stream")
        seen |= {req.model or "" for req in fake.chat_requests}
        if seen >= {*TEXT.values(), *VISION.values()}:
            break
    assert seen == {*TEXT.values(), *VISION.values()}
    # A text battle's follow-up may carry images only if both its models see them.
    r = vision_client.post(
        f"/api/battles/{battle}/turns", json={"prompt": "see", "images": [data_uri(png_bytes())]}
    )
    models = {req.model for req in fake.chat_requests[-2:]}
    if models <= set(VISION.values()):
        assert r.status_code == 202
    else:
        assert r.status_code == 409 and "cannot see images" in r.json()["detail"]


def test_gps_and_exif_never_leave(vision_client: httpx.Client, fake: FakeOpenAI) -> None:
    photo = jpeg_with_gps()
    assert b"SpyCam" in photo and Image.open(io.BytesIO(photo)).getexif().get_ifd(GPS_IFD)
    r = vision_client.post(
        "/api/battles",
        json={"prompt": "Where was this taken?", "images": [data_uri(photo, "image/jpeg")]},
    )
    assert r.status_code == 201, r.text
    battle = r.json()["battle_id"]
    read_events(vision_client, f"/api/battles/{battle}/stream")
    for req in fake.chat_requests:
        [url] = image_parts((req.messages or [])[0])
        assert url.startswith("data:image/jpeg;base64,")
        raw = base64.b64decode(url.split(",", 1)[1])
        sent = Image.open(io.BytesIO(raw))
        assert not sent.getexif() and b"SpyCam" not in raw and b"Exif" not in raw
        assert "exif" not in sent.info and "icc_profile" not in sent.info
        # Orientation 6 (turn 90° clockwise) was applied before the tag went: 40×20 → 20×40.
        assert sent.size == (20, 40)
    stored = vision_client.get(f"/battles/{battle}/images/0/0").content
    assert b"SpyCam" not in stored and not Image.open(io.BytesIO(stored)).getexif()


def test_fewer_than_two_vision_models_is_a_clear_refusal(
    arena_server: ArenaServer, fake: FakeOpenAI, tmp_path: Path
) -> None:
    models = models_file(tmp_path / "m.toml", fake.base_url, vision={"eye": "upstream-eye-vl"})
    with arena_server(models=models) as srv, srv.client() as c:
        r = c.post("/api/battles", json={"prompt": "look", "images": [data_uri(png_bytes())]})
        assert r.status_code == 409 and "two enabled vision models" in r.json()["detail"]
        assert fake.chat_requests == []
        assert c.post("/api/battles", json={"prompt": "text is fine"}).status_code == 201


SVG = b'<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><script>1</script></svg>'
BAD = [
    ("html", data_uri(b"<!doctype html><html><body>hi</body></html>"), 422, "not a"),
    ("svg", data_uri(SVG), 422, "not a"),
    ("svg-type", data_uri(SVG, "image/svg+xml"), 422, "not a"),
    ("base64", "data:image/png;base64,iVBORw0KGgo***notbase64***", 422, "base64"),
    ("not-data", "https://example.com/cat.png", 422, "base64"),
    ("truncated", data_uri(png_bytes((200, 200))[:60]), 422, "could not be decoded"),
    ("garbage", data_uri(b"\x89PNG\r\n\x1a\n" + b"\x00" * 64), 422, "not a PNG"),
    ("bomb", data_uri(png_bomb()), 422, "pixels"),
    ("too-large", data_uri(b"\x00" * (5 * 1024 * 1024 + 10)), 413, "larger than"),
]


@pytest.mark.parametrize(("case", "uri", "status", "words"), BAD, ids=[b[0] for b in BAD])
def test_bad_images_are_refused_and_nothing_is_stored(
    vision_client: httpx.Client,
    fake: FakeOpenAI,
    case: str,
    uri: str,
    status: int,
    words: str,
) -> None:
    r = vision_client.post("/api/battles", json={"prompt": "look", "images": [uri]})
    assert r.status_code == status, r.text
    assert words in r.json()["detail"]
    assert fake.chat_requests == []
    assert_nothing_stored(vision_client)


def test_too_many_images(vision_client: httpx.Client, fake: FakeOpenAI) -> None:
    uris = [data_uri(png_bytes((4 + i, 4))) for i in range(5)]
    r = vision_client.post("/api/battles", json={"prompt": "look", "images": uris})
    assert r.status_code == 422 and "at most 4" in r.json()["detail"]
    assert r.headers["content-type"].startswith("application/json")
    r = vision_client.post("/api/battles", json={"prompt": "look", "images": "nope"})
    assert r.status_code == 422
    assert fake.chat_requests == []
    assert_nothing_stored(vision_client)


def assert_nothing_stored(client: httpx.Client) -> None:
    engine = arena_state(client.app).engine  # type: ignore[attr-defined]
    with Session(engine) as s:
        assert s.exec(select(func.count()).select_from(Battle)).one() == 0
        assert s.exec(select(func.count()).select_from(ImageRow)).one() == 0
        assert s.exec(select(func.count()).select_from(TurnImage)).one() == 0


def test_images_are_only_for_their_voter(
    arena_server: ArenaServer, fake: FakeOpenAI, tmp_path: Path
) -> None:
    models = models_file(tmp_path / "m.toml", fake.base_url)
    with arena_server(models=models) as srv, srv.client() as owner, srv.client() as other:
        r = owner.post("/api/battles", json={"prompt": "look", "images": [data_uri(png_bytes())]})
        battle = r.json()["battle_id"]
        assert owner.get(f"/battles/{battle}/images/0/0").status_code == 200
        assert other.get(f"/battles/{battle}/images/0/0").status_code == 403
        assert other.get("/battles/nope/images/0/0").status_code == 404
        read_events(owner, f"/api/battles/{battle}/stream")
        assert (
            owner.post(f"/api/battles/{battle}/vote", json={"winner": "model_a"}).status_code == 200
        )
        with Session(arena_state(srv.app).engine) as s:
            assert s.exec(select(Vote.modality)).one() == "vision"


def test_upload_bytes_count_in_the_limits_and_moderation_sees_images(
    arena_server: ArenaServer, fake: FakeOpenAI, tmp_path: Path
) -> None:
    image = png_bytes((64, 64))
    models = models_file(tmp_path / "m.toml", fake.base_url)
    settings = {
        "models": models,
        "image_bytes_per_voter_per_hour": len(image) * 2,
        "moderation_enabled": True,
        "moderation_base_url": fake.base_url,
        "moderation_api_key_env": None,
    }
    with arena_server(**settings) as srv, srv.client() as c:
        for _ in range(2):
            r = c.post("/api/battles", json={"prompt": "look", "images": [data_uri(image)]})
            assert r.status_code == 201, r.text
        r = c.post("/api/battles", json={"prompt": "look", "images": [data_uri(image)]})
        assert r.status_code == 429 and "Image uploads are limited" in r.json()["detail"]
        assert c.post("/api/battles", json={"prompt": "text still works"}).status_code == 201
        checks = [q for q in fake.requests if q.path.endswith("/moderations")]
        first = checks[0].body["input"]
        assert first[0] == {"type": "text", "text": "look"}
        assert first[1]["image_url"]["url"].startswith("data:image/png;base64,")
        with srv.client() as other:
            r = other.post(
                "/api/battles", json={"prompt": "forbidden", "images": [data_uri(image)]}
            )
            assert r.status_code == 422 and "moderation" in r.json()["detail"]
