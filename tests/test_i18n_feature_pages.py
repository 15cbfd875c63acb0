"""The pages the merged features added speak Chinese too: board, model, personal and judges pages.

Each page is fetched from a real arena over a seeded database, once in Chinese (the new strings
are translated, their English gone) and once without Accept-Language (English as before).
"""

from __future__ import annotations

import pytest

from tests.board_seed import seed_votes
from tests.conftest import ArenaServer, migrated_engine
from tests.ratings.test_ratings_audit import synthetic

ZH = {"Accept-Language": "zh-CN,zh;q=0.9"}

#: page → (Chinese that must show, English that must not show in Chinese)
PAGES = {
    "/leaderboard": (
        [
            "首字延迟",
            "词元/秒",
            "千场费用",
            "视觉",
            "采用谁的判定：",
            "人工投票",
            "评分与首字延迟中位数的对比",
        ],
        ["Whose verdicts", "Pictures of quality", "Rating against", "TTFT", "Overall"],
    ),
    "/judges": (["LLM 评审模型", "还没有评审模型"], ["LLM judges", "No judges yet"]),
    "/leaderboard/me": (
        ["你的排行榜", "公开排行榜", "你已投了 0 票。"],
        ["Your leaderboard", "You have cast"],
    ),
}


@pytest.fixture
def seeded(arena_server: ArenaServer, database_url: str) -> ArenaServer:
    with migrated_engine(database_url, ()) as engine:
        seed_votes(engine, synthetic(m=4, n=400, seed=3))
    return arena_server


@pytest.mark.parametrize("path", sorted(PAGES))
def test_feature_pages_in_chinese(seeded: ArenaServer, path: str) -> None:
    shown, gone = PAGES[path]
    with seeded() as srv, srv.client() as c:
        c.get("/api/leaderboard")  # the board is fitted before the page asks for it
        page = c.get(path, headers=ZH)
        assert page.status_code == 200, page.text
        for text in shown:
            assert text in page.text, f"{text!r} not on {path} in Chinese"
        for text in gone:
            assert text not in page.text, f"{text!r} left in English on {path}"
        english = c.get(path)
        assert english.status_code == 200 and gone[0] in english.text


def test_model_page_in_chinese(seeded: ArenaServer) -> None:
    with seeded() as srv, srv.client() as c:
        name = c.get("/api/leaderboard").json()["models"][0]["model"]
        page = c.get(f"/models/{name}", headers=ZH)
        assert page.status_code == 200
        for text in ("对阵各个对手", "按类别", "排名范围", "按评分预测的胜率", "← 排行榜"):
            assert text in page.text, text
        for text in ("Against each opponent", "By category", "Rank spread", "← Leaderboard"):
            assert text not in page.text, text
        english = c.get(f"/models/{name}").text
        assert "Against each opponent" in english and "Rank spread" in english
