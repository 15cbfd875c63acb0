"""A board built from an imported battle file shows its models, saying why they are not active."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from arena.admin.battlefiles import import_battles
from arena.core.settings import Settings
from arena.store.engine import make_engine, migrate
from arena.web.app import create_app


def write_file(path: Path, n: int = 60) -> Path:
    """Battles among three models the arena has never heard of."""
    names = ["imp-a", "imp-b", "imp-c"]
    rows = [
        {
            "question_id": f"q{i}",
            "model_a": names[i % 3],
            "model_b": names[(i + 1) % 3],
            "winner": ("model_a", "model_b", "tie")[i % 4 % 3],
        }
        for i in range(n)
    ]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def test_imported_board_lists_its_models(
    make_settings: Callable[..., Settings], tmp_path: Path
) -> None:
    settings = make_settings(min_battles=5)
    engine = make_engine(settings.database_url)
    migrate(engine)
    report = import_battles(engine, write_file(tmp_path / "file.jsonl"))
    engine.dispose()
    assert report.imported == 60
    with TestClient(create_app(settings)) as c:
        data: dict[str, Any] = c.get("/api/leaderboard").json()
        imported = {m["model"]: m for m in data["models"] if m["model"].startswith("imp-")}
        assert set(imported) == {"imp-a", "imp-b", "imp-c"}
        assert {m["status"] for m in imported.values()} == {"imported"}
        assert {m["status_note"] for m in imported.values()} == {"imported, no endpoint"}
        html = c.get("/leaderboard").text
        rows = dict(re.findall(r'<tr data-model="([^"]+)" class="status-(\w+)">', html))
        assert {rows[n] for n in imported} == {"imported"}
        assert html.count("imported, no endpoint") == 3
        assert "No votes yet" not in html
