"""`arena leaderboard --battles FILE` reads min_battles as the settings do, and loads neither the
web stack, the database layer nor pydantic."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from arena.core import ranking_setting
from arena.core.settings import Settings, load_settings


def test_default_is_the_settings_default() -> None:
    assert Settings.model_fields["min_battles"].default == ranking_setting.DEFAULT_MIN_BATTLES


@pytest.mark.parametrize(
    ("env", "toml", "expected"),
    [(None, None, 30), (None, "min_battles = 5", 5), ("7", "min_battles = 5", 7), ("0", None, 0)],
)
def test_same_value_as_load_settings(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    env: str | None,
    toml: str | None,
    expected: int,
) -> None:
    config = tmp_path / "arena.toml"
    if toml is not None:
        config.write_text(f"[arena]\n{toml}\n")
    monkeypatch.setenv("ARENA_CONFIG", str(config))
    if env is None:
        monkeypatch.delenv("ARENA_MIN_BATTLES", raising=False)
    else:
        monkeypatch.setenv("ARENA_MIN_BATTLES", env)
    assert ranking_setting.min_battles() == expected == load_settings().min_battles


@pytest.mark.parametrize("bad", ["-1", "many", "2.5"])
def test_bad_values_are_refused(monkeypatch: pytest.MonkeyPatch, bad: str) -> None:
    monkeypatch.setenv("ARENA_MIN_BATTLES", bad)
    with pytest.raises(ValueError, match="ARENA_MIN_BATTLES"):
        ranking_setting.min_battles()


def test_ranking_a_file_imports_no_web_stack(tmp_path: Path) -> None:
    path = tmp_path / "battles.jsonl"
    rows = [{"model_a": "x", "model_b": "y", "winner": w} for w in ("model_a", "model_b", "tie")]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    script = (
        "import sys\n"
        "from arena.cli.main import main\n"
        f"status = main(['leaderboard', '--battles', {str(path)!r}, '--format', 'json'])\n"
        "heavy = ('fastapi', 'starlette', 'sqlalchemy', 'sqlmodel', 'pydantic', 'openai',"
        " 'jinja2', 'uvicorn', 'alembic', 'psycopg')\n"
        "print(sorted(m for m in heavy if m in sys.modules), file=sys.stderr)\n"
        "sys.exit(status)\n"
    )
    env = {**os.environ, "ARENA_CONFIG": str(tmp_path / "none.toml")}
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, env=env, check=False
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["total_battles"] == 3
    assert done.stderr.strip().splitlines()[-1] == "[]"
