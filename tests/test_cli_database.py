"""The CLI opens the database the running server uses, and never creates one by reading."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from arena.cli.main import main
from arena.cli.server_state import STATE_FILE, running_server, server_state
from arena.store.engine import make_engine, migrate, session_scope
from arena.store.tables import Endpoint


@pytest.fixture
def folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A working folder with no database and no settings telling which one to use."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("ARENA_DATABASE_URL", raising=False)
    monkeypatch.setenv("ARENA_CONFIG", str(tmp_path / "none.toml"))
    monkeypatch.setenv("ARENA_MODELS", str(tmp_path / "none-models.toml"))
    monkeypatch.setenv("ARENA_SECRET_KEY", "test-secret-key-0123456789abcdef0123")
    return tmp_path


@pytest.mark.parametrize(
    "command",
    [["models", "list"], ["leaderboard"], ["battles", "export"], ["votes", "list"]],
)
def test_reading_a_missing_database_is_an_error(
    folder: Path, command: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(command) == 2
    err = capsys.readouterr().err
    assert err.startswith("arena: error: no database at arena.db")
    assert not (folder / "arena.db").exists()


def test_commands_follow_the_running_server(
    folder: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = "sqlite:///./arena-demo.db"
    engine = make_engine(url)
    migrate(engine)
    with session_scope(engine) as session:
        session.add(Endpoint(name="gemma-warm", base_url="http://127.0.0.1:9/v1", model="g"))
    engine.dispose()
    # The server is another process: the parent of this test stands in for it (alive).
    with server_state(url):
        state = json.loads(STATE_FILE.read_text(encoding="utf-8"))
        assert state["database_url"] == f"sqlite:///{folder / 'arena-demo.db'}"
        state["pid"] = os.getppid()
        STATE_FILE.write_text(json.dumps(state), encoding="utf-8")
        assert running_server() == (os.getppid(), state["database_url"])
        assert main(["models", "list"]) == 0
        out = capsys.readouterr()
        assert "gemma-warm" in out.out
        assert "arena-demo.db" in out.err and "running server" in out.err
    assert not (folder / "arena.db").exists()


def test_an_explicit_database_wins_and_a_dead_server_is_ignored(
    folder: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    STATE_FILE.write_text(
        json.dumps({"pid": 2**22 + 12345, "database_url": "sqlite:///./gone.db"}),
        encoding="utf-8",
    )
    assert running_server() is None
    assert main(["models", "list"]) == 2  # the default file, which does not exist
    STATE_FILE.write_text(
        json.dumps({"pid": os.getppid(), "database_url": "sqlite:///./other.db"}),
        encoding="utf-8",
    )
    mine = folder / "mine.db"
    engine = make_engine(f"sqlite:///{mine}")
    migrate(engine)
    engine.dispose()
    monkeypatch.setenv("ARENA_DATABASE_URL", f"sqlite:///{mine}")
    capsys.readouterr()
    assert main(["models", "list"]) == 0
    assert "running server" not in capsys.readouterr().err
    assert not (folder / "other.db").exists()


def test_the_state_file_goes_when_the_server_stops(folder: Path) -> None:
    with server_state("sqlite:///./x.db"):
        assert STATE_FILE.exists()
    assert not STATE_FILE.exists()
