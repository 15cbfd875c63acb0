"""`arena battles import|export` and `arena leaderboard` on the arena's database and on files."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from arena.cli.main import main

BATTLES = [
    {"model_a": "x", "model_b": "y", "winner": "model_a"},
    {"model_a": "y", "model_b": "z", "winner": "model_a"},
    {"model_a": "x", "model_b": "z", "winner": "model_b"},
    {"model_a": "x", "model_b": "y", "winner": "tie"},
    {"model_a": "z", "model_b": "y", "winner": "model_b"},
    {"model_a": "x", "model_b": "z", "winner": "model_a"},
]
Cli = Callable[..., tuple[int, str, str]]


@pytest.fixture
def cli(
    database_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> Cli:
    """Run `arena …` in-process on the test database; returns (exit status, stdout, stderr)."""
    monkeypatch.setenv("ARENA_DATABASE_URL", database_url)
    monkeypatch.setenv("ARENA_CONFIG", str(tmp_path / "none.toml"))
    monkeypatch.setenv("ARENA_SECRET_KEY", "test-secret-key-0123456789abcdef0123")

    def run(*args: str) -> tuple[int, str, str]:
        status = main(list(args))
        out = capsys.readouterr()
        return status, out.out, out.err

    return run


@pytest.fixture
def battle_file(tmp_path: Path) -> Path:
    """The six battles among x, y and z, and one record without model_b on line 7."""
    path = tmp_path / "battles.jsonl"
    lines = [json.dumps(b) for b in BATTLES] + ['{"model_a": "bad"}']
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def ratings(text: str) -> dict[str, int]:
    """{model: battles} of a JSON leaderboard."""
    return {m["model"]: m["battles"] for m in json.loads(text)["models"]}


def test_import_export_and_rank(cli: Cli, battle_file: Path, tmp_path: Path) -> None:
    rejected = f"{battle_file}:7: rejected: missing field 'model_b'\n"
    assert cli("battles", "import", str(battle_file), "--strict") == (
        1,
        "",
        rejected + "nothing imported (--strict and some records were rejected)\n",
    )
    assert cli("battles", "import", str(battle_file)) == (
        1,
        "6 imported, 0 duplicates skipped, 1 rejected of 7 records; new models: x, y, z\n",
        rejected,
    )
    status, out, _ = cli("battles", "import", str(battle_file))
    assert (status, out) == (1, "0 imported, 6 duplicates skipped, 1 rejected of 7 records\n")

    status, out, err = cli("leaderboard", "--format", "json")
    assert (status, err) == (0, "")
    assert ratings(out) == {"x": 4, "y": 4, "z": 4}

    exported = tmp_path / "export.jsonl"
    assert cli("battles", "export", "--out", str(exported)) == (
        0,
        "",
        f"exported 6 battles to {exported}\n",
    )
    records = [json.loads(line) for line in exported.read_text(encoding="utf-8").splitlines()]
    assert [(r["model_a"], r["model_b"], r["winner"]) for r in records] == [
        (b["model_a"], b["model_b"], b["winner"]) for b in BATTLES
    ]
    status, out, err = cli("battles", "export")
    assert (status, len(out.splitlines()), err) == (0, 6, "exported 6 battles\n")

    # The exported file ranks like the arena's own votes.
    status, out, _ = cli("leaderboard", "--battles", str(exported), "--format", "json")
    assert status == 0 and ratings(out) == {"x": 4, "y": 4, "z": 4}


def test_errors(cli: Cli, battle_file: Path, tmp_path: Path) -> None:
    missing = tmp_path / "missing.jsonl"
    assert cli("battles", "import", str(missing)) == (
        2,
        "",
        f"arena: error: no such file: {missing}\n",
    )
    status, out, err = cli("leaderboard", "--battles", str(battle_file), "--anchor", "x")
    assert (status, out) == (2, "")
    assert err.endswith("arena: error: --anchor takes MODEL=RATING, e.g. --anchor gpt-4o=1200\n")
