"""Vision battles through the HTML routes (the page's forms, htmx fragments), as the browser's
script posts them: the images as data: URIs in fields named `images`."""

from __future__ import annotations

import re

import httpx
import pytest

from tests.conftest import read_events
from tests.fake_openai import FakeOpenAI
from tests.image_samples import data_uri, jpeg_with_gps, png_bytes
from tests.test_battle_pages import HX, battle_id_of, csrf
from tests.test_vision_api import VISION, decode, image_parts, vision_client  # noqa: F401

pytestmark = pytest.mark.usefixtures("vision_client")


def test_form_with_images(vision_client: httpx.Client, fake: FakeOpenAI) -> None:  # noqa: F811
    c = vision_client
    page = c.get("/").text
    assert "Add images" in page and "data-attach" in page  # two vision models: the picker shows
    headers = {**HX, "X-CSRF-Token": csrf(c)}
    photo = data_uri(jpeg_with_gps(), "image/jpeg")
    r = c.post(
        "/battles",
        data={"prompt": "Describe it", "images": [photo, data_uri(png_bytes())]},
        headers=headers,
    )
    assert r.status_code == 200, r.text
    battle = battle_id_of(r.text)
    assert len(re.findall(rf'src="/battles/{battle}/images/0/\d"', r.text)) == 2
    events = read_events(c, f"/battles/{battle}/events")
    end = next(d for n, d in events if n == "end")
    assert "followup-images" in end  # both models see images: the follow-up may carry some
    for req in fake.chat_requests:
        assert req.model in VISION.values()
        first, _second = image_parts((req.messages or [])[0])
        assert not decode(first).getexif()
    fake.reset()
    r = c.post(
        f"/battles/{battle}/turns",
        data={"prompt": "And now?", "images": [data_uri(png_bytes((9, 9)))]},
        headers=headers,
    )
    assert r.status_code == 200, r.text
    assert f"/battles/{battle}/images/1/0" in r.text
    read_events(c, f"/battles/{battle}/events")
    for req in fake.chat_requests:
        msgs = req.messages or []
        assert [len(image_parts(m)) for m in (msgs[0], msgs[2])] == [2, 1]
    r = c.post(f"/battles/{battle}/vote", data={"winner": "model_b"}, headers=headers)
    assert r.status_code == 200 and r.text.count("reveal-images") == 1
    assert len(re.findall(r'<img src="/battles/[0-9a-f]+/images/\d/\d"', r.text)) == 3


def test_bad_image_in_the_form_is_a_message(
    vision_client: httpx.Client,  # noqa: F811
    fake: FakeOpenAI,
) -> None:
    headers = {**HX, "X-CSRF-Token": csrf(vision_client)}
    r = vision_client.post(
        "/battles",
        data={"prompt": "x", "images": [data_uri(b"<html>not an image</html>")]},
        headers=headers,
    )
    assert 400 <= r.status_code < 500 or "form-error" in r.text
    assert "not a PNG, JPEG, WebP or GIF image" in r.text
    assert fake.chat_requests == []
