"""The CLI imports lazily: `arena --help` and `arena leaderboard --battles FILE` load no web stack.

Each check runs in a fresh interpreter (`python -c`), as this test process has long imported
everything through conftest. These are behaviour checks on `sys.modules`, not timings.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
# The web stack and the database layer: none of them may load before a command needs them.
HEAVY = ("fastapi", "starlette", "sqlalchemy", "sqlmodel", "openai", "jinja2", "uvicorn")
MARK = "LOADED-MODULES:"

# Runs `arena ARGV` (or only builds the parser), then reports on its last stdout line where
# `arena` came from and which HEAVY modules are loaded; exits with the command's status.
PROBE = """
import json, sys
from arena.cli.main import build_parser, main
argv = json.loads(sys.argv[1])
status = 0
if argv is None:
    build_parser()
else:
    try:
        status = main(argv)
    except SystemExit as exc:
        status = exc.code if isinstance(exc.code, int) else 1
import arena
heavy = json.loads(sys.argv[2])
loaded = sorted(m for m in sys.modules if m.split(".")[0] in heavy)
print("\\n" + sys.argv[3] + json.dumps({"arena": arena.__file__, "loaded": loaded}))
sys.exit(status)
"""

BATTLES = [
    {"model_a": "x", "model_b": "y", "winner": "model_a"},
    {"model_a": "y", "model_b": "z", "winner": "model_a"},
    {"model_a": "x", "model_b": "z", "winner": "model_b"},
    {"model_a": "x", "model_b": "y", "winner": "tie"},
    {"model_a": "z", "model_b": "y", "winner": "model_b"},
    {"model_a": "x", "model_b": "z", "winner": "model_a"},
]


def probe(argv: list[str] | None, cwd: Path) -> tuple[int, str, list[str]]:
    """Run the probe in a fresh interpreter: (exit status, stdout before the report, loaded)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("ARENA_")}
    # This checkout's `arena`, whichever one the environment has installed; no arena.toml.
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    env["ARENA_CONFIG"] = str(cwd / "no-such-arena.toml")
    result = subprocess.run(
        [sys.executable, "-c", PROBE, json.dumps(argv), json.dumps(HEAVY), MARK],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    output, _, report = result.stdout.rpartition(MARK)
    assert report, f"no report from the probe; stderr:\n{result.stderr}"
    found = json.loads(report)
    assert Path(found["arena"]).resolve().is_relative_to(ROOT), found["arena"]
    return result.returncode, output, found["loaded"]


def test_building_the_parser_loads_no_web_stack(tmp_path: Path) -> None:
    status, _, loaded = probe(None, tmp_path)
    assert (status, loaded) == (0, [])


@pytest.mark.parametrize(
    "argv",
    [["--help"], ["leaderboard", "--help"], ["models", "add", "--help"], ["battles", "--help"]],
)
def test_help_loads_no_web_stack(tmp_path: Path, argv: list[str]) -> None:
    status, output, loaded = probe(argv, tmp_path)
    assert status == 0 and output.startswith("usage: arena")
    assert loaded == []


def test_leaderboard_of_a_file_loads_no_web_stack(tmp_path: Path) -> None:
    path = tmp_path / "battles.jsonl"
    path.write_text("".join(json.dumps(b) + "\n" for b in BATTLES), encoding="utf-8")
    status, output, loaded = probe(
        ["leaderboard", "--battles", str(path), "--format", "json"], tmp_path
    )
    assert status == 0
    board = json.loads(output)
    assert board["total_battles"] == len(BATTLES)
    assert {m["model"]: m["battles"] for m in board["models"]} == {"x": 4, "y": 4, "z": 4}
    assert loaded == []


def test_category_board_of_a_file_has_overall_ranks_and_loads_no_web_stack(
    tmp_path: Path,
) -> None:
    # z loses overall but wins both of its math battles.
    battles = [dict(b, category="chat") for b in BATTLES] + [
        {"model_a": "z", "model_b": "x", "winner": "model_a", "category": "math"},
        {"model_a": "z", "model_b": "y", "winner": "model_a", "category": "math"},
    ]
    path = tmp_path / "battles.jsonl"
    path.write_text("".join(json.dumps(b) + "\n" for b in battles), encoding="utf-8")
    status, output, loaded = probe(
        ["leaderboard", "--battles", str(path), "--format", "json", "--category", "math"],
        tmp_path,
    )
    assert status == 0 and loaded == []
    board = json.loads(output)
    rows = {m["model"]: m for m in board["models"]}
    assert board["category"] == "math" and rows["z"]["rank"] == 1
    assert rows["z"]["rank_overall"] > 1 and rows["z"]["rank_change"] > 0
    status, output, _ = probe(
        ["leaderboard", "--battles", str(path), "--format", "csv", "--category", "math"],
        tmp_path,
    )
    assert output.splitlines()[0].endswith(",rank_overall")
