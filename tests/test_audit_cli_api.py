"""The audit's doors: `arena leaderboard --reweight --ties --flip`, `GET /api/leaderboard/flip`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from arena.cli.main import main
from ratings import load_battles
from ratings.preliminary import compute_listed
from tests.board_seed import LABELS, seed_votes
from tests.conftest import ArenaServer, migrated_engine
from tests.ratings.test_ratings_audit import synthetic


@pytest.fixture
def battle_file(tmp_path: Path) -> Path:
    b = synthetic(m=5, n=1500, seed=2)
    path = tmp_path / "battles.jsonl"
    lines = [
        json.dumps(
            {
                "model_a": b.names[int(x)],
                "model_b": b.names[int(y)],
                "winner": LABELS[int(o)],
            }
        )
        for x, y, o in zip(b.model_a, b.model_b, b.outcome, strict=True)
    ]
    path.write_text("\n".join(lines) + "\n")
    return path


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    status = main(list(args))
    out = capsys.readouterr()
    return status, out.out, out.err


def test_cli_reweight_ties_and_flip(
    battle_file: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("ARENA_CONFIG", str(tmp_path / "none.toml"))
    status, out, _ = run(
        capsys, "leaderboard", "--battles", str(battle_file), "--format", "json", "--reweight"
    )
    data = json.loads(out)
    assert status == 0 and data["reweighted"] is True and data["ties"] == "half"
    status, out, _ = run(
        capsys, "leaderboard", "--battles", str(battle_file), "--format", "json", "--ties", "drop"
    )
    dropped = json.loads(out)
    assert dropped["ties"] == "drop" and dropped["total_battles"] < data["total_battles"]
    status, out, _ = run(capsys, "leaderboard", "--battles", str(battle_file), "--format", "csv")
    assert out.splitlines()[0].endswith(",preliminary,rank_lb")
    top, second = data["models"][0]["model"], data["models"][1]["model"]
    status, out, _ = run(
        capsys, "leaderboard", "--battles", str(battle_file), "--flip", f"{second},{top}"
    )
    audit = json.loads(out)
    plain = compute_listed(load_battles(battle_file).battles)
    assert (audit["top"], audit["other"]) == (plain.models[0].model, plain.models[1].model)
    assert audit["votes"] >= 1
    with pytest.raises(SystemExit):
        main(["leaderboard", "--battles", str(battle_file), "--ties", "sometimes"])
    capsys.readouterr()


def test_api_flip_audit(arena_server: ArenaServer, database_url: str) -> None:
    b = synthetic(m=5, n=1500, seed=2)
    with migrated_engine(database_url, ()) as engine:
        seed_votes(engine, b)
    with arena_server() as srv, srv.client() as c:
        board = c.get("/api/leaderboard").json()
        assert board["flip_audit"]["top"] == board["models"][0]["model"]
        assert all("rank_lb" in m for m in board["models"])
        names = [m["model"] for m in board["models"] if not m["preliminary"]]
        r = c.get("/api/leaderboard/flip", params={"a": names[3], "b": names[1]})
        assert r.status_code == 200, r.text
        assert (r.json()["top"], r.json()["other"]) == (names[1], names[3])
        assert c.get("/api/leaderboard", params={"reweight": "true"}).json()["reweighted"]
        assert c.get("/api/leaderboard", params={"ties": "drop"}).json()["ties"] == "drop"
        for params in ({"a": "nobody", "b": names[0]}, {"a": names[0], "b": names[0]}):
            bad = c.get("/api/leaderboard/flip", params=params)
            assert bad.status_code == 422 and "detail" in bad.json()
        assert c.get("/api/leaderboard/flip", params={"a": names[0]}).status_code == 422
        page = c.get(f"/models/{names[0]}")
        assert page.status_code == 200 and "Against each opponent" in page.text
        assert c.get("/models/nobody").status_code == 404
        assert "Cast 20 more" in c.get("/leaderboard/me").text
