"""The pages speak the reader's language: Accept-Language, the switch, messages and fragments."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest

from arena.web.error_text import translate
from arena.web.i18n import negotiate, speaking
from arena.web.render import wait_in_words
from tests.conftest import read_events

ZH = {"Accept-Language": "zh-CN,zh;q=0.9,en;q=0.8"}
HX = {"HX-Request": "true"}


def csrf(client: httpx.Client, headers: dict[str, str]) -> str:
    m = re.search(r'name="csrf_token" value="([0-9a-f]+)"', client.get("/", headers=headers).text)
    assert m
    return m.group(1)


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (None, "en"),
        ("", "en"),
        ("zh-CN", "zh-Hans"),
        ("zh-TW,zh;q=0.9", "zh-Hans"),
        ("zh_Hans_CN", "zh-Hans"),
        ("en-US,en;q=0.9,zh-CN;q=0.8", "en"),
        ("en;q=0.5, zh-CN;q=0.9", "zh-Hans"),  # q-values, not the order, decide
        ("fr-FR, de;q=0.9, zh;q=0.3", "zh-Hans"),  # the first language we have
        ("fr-FR, de;q=0.9", "en"),
        ("zh-CN;q=0, en", "en"),  # q=0 means "not this one"
        ("*", "en"),
        ("zh;q=abc, en", "en"),  # a broken q-value is ignored, not an error
        (";;;,,,q=", "en"),
    ],
)
def test_accept_language(header: str | None, expected: str) -> None:
    assert negotiate(header) == expected


def test_pages_in_chinese(client: httpx.Client) -> None:
    r = client.get("/", headers=ZH)
    assert r.status_code == 200
    assert '<html lang="zh-Hans">' in r.text
    assert "哪个回答更好？" in r.text and "发送给两个模型" in r.text and "排行榜" in r.text
    assert "Which answer is better?" not in r.text
    assert "Accept-Language" in r.headers["vary"]

    r = client.get("/leaderboard", headers=ZH)
    assert r.status_code == 200 and "<h1>排行榜</h1>" in r.text and "置信区间" in r.text

    r = client.get("/admin/login", headers=ZH)
    assert r.status_code == 200 and "管理员登录" in r.text and "管理员令牌" in r.text

    r = client.get("/", headers={"Accept-Language": "en-GB"})
    assert '<html lang="en">' in r.text and "Which answer is better?" in r.text


def test_switch_sets_a_cookie_and_returns(client: httpx.Client) -> None:
    r = client.get("/language/en", params={"next": "/leaderboard?sort=rating"}, headers=ZH)
    assert r.status_code == 303 and r.headers["location"] == "/leaderboard?sort=rating"
    assert "arena_lang=en" in r.headers["set-cookie"]
    # The cookie now outranks the browser's Chinese.
    page = client.get("/leaderboard", headers=ZH)
    assert '<html lang="en">' in page.text and "<h1>Leaderboard</h1>" in page.text

    client.get("/language/zh-Hans", params={"next": "/"})
    assert '<html lang="zh-Hans">' in client.get("/", headers={"Accept-Language": "en"}).text

    # The page the reader is on (Referer, same site) wins over the link's older `next`.
    r = client.get(
        "/language/en",
        params={"next": "/"},
        headers={"Referer": f"{client.base_url}/battles/abc", "Host": client.base_url.host},
    )
    assert r.headers["location"] == "/battles/abc"


@pytest.mark.parametrize(
    "target", ["https://evil.example/", "//evil.example/x", "javascript:alert(1)", "/language/en"]
)
def test_switch_never_leaves_the_site(client: httpx.Client, target: str) -> None:
    r = client.get("/language/zh-Hans", params={"next": target})
    assert r.status_code == 303 and r.headers["location"] == "/"


def test_unknown_language_is_a_404(client: httpx.Client) -> None:
    assert client.get("/language/xx").status_code == 404
    # A forged cookie falls back to the browser's language.
    r = client.get("/", headers={**ZH, "Cookie": "arena_lang=xx"})
    assert '<html lang="zh-Hans">' in r.text


def test_battle_fragments_and_events_in_chinese(client: httpx.Client) -> None:
    client.headers.update(ZH)
    headers = {**HX, "X-CSRF-Token": csrf(client, ZH)}
    r = client.post("/battles", data={"prompt": "Hello"}, headers=headers)
    assert r.status_code == 200 and "模型 A" in r.text and "两者都不好" in r.text
    battle = re.search(r'data-battle="([0-9a-f]+)"', r.text)
    assert battle
    # The event stream renders its fragments later, in the same request's language.
    events = dict(read_events(client, f"/battles/{battle.group(1)}/events"))
    assert "复制" in events["a-done"] and "A 更好" in events["end"]
    r = client.post(f"/battles/{battle.group(1)}/vote", data={"winner": "tie"}, headers=headers)
    assert "你的投票：<strong>平局</strong>" in r.text and "新一轮" in r.text


def test_service_refusals_in_chinese_and_the_api_in_english(arena_server: Any) -> None:
    with arena_server(max_prompt_chars=10, battles_per_voter_per_hour=1) as srv, srv.client() as c:
        headers = {**HX, **ZH, "X-CSRF-Token": csrf(c, ZH)}
        r = c.post("/battles", data={"prompt": "x" * 20}, headers=headers)
        assert r.status_code == 422 and "提示词共 20 个字符，上限为 10。" in r.text
        r = c.post("/battles", data={"prompt": "   "}, headers=headers)
        assert r.status_code == 422 and "提示词为空。" in r.text

        assert c.post("/battles", data={"prompt": "one"}, headers=headers).status_code == 200
        r = c.post("/battles", data={"prompt": "two"}, headers=headers)
        assert r.status_code == 429
        assert "你的对战次数过多：每小时最多 1 次。请在 1 小时后重试。" in r.text, r.text

        # The JSON API keeps the English its clients parse, whatever the browser prefers.
        r = c.post("/api/battles", json={"prompt": " "}, headers=ZH)
        assert r.status_code == 422 and r.json()["detail"] == "The prompt is empty."


def test_translate_outside_a_request_is_english() -> None:
    assert translate("The prompt is empty.") == "The prompt is empty."
    assert wait_in_words(3900) == "1 hour 5 minutes"


def test_translate_patterns() -> None:
    with speaking("zh-Hans"):
        assert (
            translate("A battle has at most 5 turns; please vote.") == "每场对战最多 5 轮，请投票。"
        )
        assert translate("Something nobody wrote.") == "Something nobody wrote."
        assert wait_in_words(3900) == "1 小时 5 分钟"
        assert wait_in_words(1) == "1 秒"


def test_assembled_notices_are_translated() -> None:
    """The reveal's notices, built from pieces in battles/vote.py, match their patterns."""
    with speaking("zh-Hans"):
        leaked = translate(
            "Model B revealed its identity in its answer, so this vote is recorded but does not "
            "count on the leaderboard."
        )
        assert leaked == "模型 B 在回答中透露了自己的身份，这票已记录，但不计入排行榜。"
