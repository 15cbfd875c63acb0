"""The `vision` flag everywhere an endpoint is described (file, API, admin form, CLI), the
vision presets, and the admin's test of a vision endpoint with the built-in image."""

from __future__ import annotations

import base64
import io
from collections.abc import Callable

import httpx
from PIL import Image

from arena.admin.presets import PRESETS
from tests.admin_client import AUTH, login
from tests.fake_openai import FakeOpenAI
from tests.image_samples import data_uri, png_bytes
from tests.test_cli_models import cli, rows  # noqa: F401
from tests.test_vision_api import image_parts, vision_client  # noqa: F401
from tests.test_vision_board import play


def test_api_flag_and_vision_test(client: httpx.Client, fake: FakeOpenAI) -> None:
    r = client.post(
        "/api/admin/models",
        headers=AUTH,
        json={"name": "eye", "base_url": fake.base_url, "model": "upstream-eye", "vision": True},
    )
    assert r.status_code == 201, r.text and r.json()["vision"] is True
    assert client.get("/api/admin/models/alpha", headers=AUTH).json()["vision"] is False

    result = client.post("/api/admin/models/eye/test", headers=AUTH).json()
    assert result["ok"] is True and result["image"] is True
    assert "colour is the circle" in result["answer"]
    [url] = image_parts((fake.chat_requests[-1].messages or [])[0])
    picture = Image.open(io.BytesIO(base64.b64decode(url.split(",", 1)[1])))
    assert picture.size == (64, 64) and picture.getpixel((32, 32))[0] > 200  # red centre
    # A text endpoint's test stays one short text prompt.
    text = client.post("/api/admin/models/alpha/test", headers=AUTH).json()
    assert text["image"] is False
    assert isinstance((fake.chat_requests[-1].messages or [])[0]["content"], str)

    r = client.patch("/api/admin/models/eye", headers=AUTH, json={"vision": False})
    assert r.status_code == 200 and r.json()["vision"] is False
    r = client.patch("/api/admin/models/eye", headers=AUTH, json={"vision": "maybe"})
    assert r.status_code == 422


def test_vision_presets(client: httpx.Client, fake: FakeOpenAI) -> None:
    assert {"modelstudio-vl-singapore", "openai-vision", "vllm-vision"} <= set(PRESETS)
    assert {"ollama-vision", "llamacpp-vision"} <= set(PRESETS)
    vl = PRESETS["modelstudio-vl-singapore"]
    assert vl.vision and vl.thinking == "enable_thinking" and vl.example_model == "qwen3-vl-plus"
    assert "qwen-vl-max" in vl.hint
    r = client.post(
        "/api/admin/models",
        headers=AUTH,
        json={
            "name": "qwen-vl",
            "preset": "modelstudio-vl-singapore",
            "model": "qwen3-vl-plus",
            "thinking": False,
        },
    )
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["vision"] is True and body["extra_body"] == {"enable_thinking": False}
    assert body["base_url"] == "https://dashscope-intl.aliyuncs.com/compatible-mode/v1"
    # A preset's vision default can be turned off explicitly.
    r = client.post(
        "/api/admin/models",
        headers=AUTH,
        json={"name": "o", "preset": "openai-vision", "model": "gpt-4o", "vision": False},
    )
    assert r.status_code == 201 and r.json()["vision"] is False


def test_admin_form_flag(client: httpx.Client, fake: FakeOpenAI) -> None:
    csrf = login(client)
    form = client.get("/admin/models/new?preset=ollama-vision").text
    assert 'name="vision" checked' in form
    r = client.post(
        "/admin/models",
        data={
            "csrf_token": csrf,
            "name": "lens",
            "base_url": fake.base_url,
            "model": "upstream-lens",
            "enabled": "on",
            "vision": "on",
        },
    )
    assert r.status_code == 303, r.text
    assert client.get("/api/admin/models/lens", headers=AUTH).json()["vision"] is True
    page = client.get("/admin/models/lens").text
    assert 'name="vision" checked' in page
    r = client.post(
        "/admin/models/lens",
        data={
            "csrf_token": csrf,
            "base_url": fake.base_url,
            "model": "upstream-lens",
            "weight": "1",
            "enabled": "on",
        },
    )
    assert r.status_code in (200, 303), r.text
    assert client.get("/api/admin/models/lens", headers=AUTH).json()["vision"] is False


def test_cli_flag(
    cli: Callable[..., tuple[int, str]],  # noqa: F811
    fake: FakeOpenAI,
    database_url: str,
) -> None:
    status, out = cli(
        "models", "add", "eye", "--base-url", fake.base_url, "--model", "m-eye", "--vision"
    )
    assert status == 0, out
    assert rows(database_url)["eye"].vision is True
    assert "vision" in cli("models", "list")[1]
    status, out = cli("models", "edit", "eye", "--no-vision")
    assert status == 0, out
    assert rows(database_url)["eye"].vision is False
    status, out = cli("models", "add", "v", "--preset", "vllm-vision", "--model", "Qwen/Qwen2.5-VL")
    assert status == 0, out
    assert rows(database_url)["v"].vision is True


def test_vote_review_shows_the_images(
    vision_client: httpx.Client,  # noqa: F811
    fake: FakeOpenAI,
) -> None:
    battle = play(vision_client, [data_uri(png_bytes())])["battle_id"]
    url = f"/admin/battles/{battle}/images/0/0"
    assert vision_client.get(url).status_code in (302, 303, 401, 403)  # not an admin yet
    login(vision_client)
    page = vision_client.get("/admin/votes").text
    assert f'src="{url}"' in page
    r = vision_client.get(url)
    assert r.status_code == 200 and r.headers["content-type"] == "image/png"
