"""`arena models …` and `arena votes …` against the same database the server uses."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlmodel import Session, select

from arena.cli.main import main
from arena.store.engine import make_engine, migrate
from arena.store.tables import Endpoint, Vote
from tests.admin_client import AUTH, play
from tests.conftest import ArenaServer
from tests.fake_openai import Behavior, FakeOpenAI, closed_port_url

KEY = "sk-cli-SECRET-777777"


@pytest.fixture
def cli(
    database_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> Callable[..., tuple[int, str]]:
    """Run `arena …` in-process on the test database; returns (exit status, stdout + stderr)."""
    monkeypatch.setenv("ARENA_DATABASE_URL", database_url)
    monkeypatch.setenv("ARENA_CONFIG", str(tmp_path / "none.toml"))
    monkeypatch.setenv("ARENA_SECRET_KEY", "test-secret-key-0123456789abcdef0123")
    monkeypatch.setenv("ARENA_UPSTREAM_RETRIES", "0")

    def run(*args: str) -> tuple[int, str]:
        status = main(list(args))
        out = capsys.readouterr()
        return status, out.out + out.err

    return run


def rows(database_url: str) -> dict[str, Endpoint]:
    engine = make_engine(database_url)
    with Session(engine) as session:
        found = {e.name: e for e in session.exec(select(Endpoint))}
    engine.dispose()
    return found


def test_add_list_edit_enable_disable_retire(
    cli: Callable[..., tuple[int, str]], fake: FakeOpenAI, database_url: str
) -> None:
    # Reading never creates a database (tests/test_cli_database.py): start from an empty one.
    engine = make_engine(database_url)
    migrate(engine)
    engine.dispose()
    assert cli("models", "list") == (
        0,
        "no models; add one with `arena models add` or in configs/models.toml\n",
    )
    status, out = cli(
        "models",
        "add",
        "local",
        "--base-url",
        fake.base_url,
        "--model",
        "m1",
        "--weight",
        "2",
        "--extra-body",
        '{"top_k": 5}',
        "--aliases",
        "L, Loc",
    )
    assert status == 0 and "added local" in out
    status, out = cli(
        "models",
        "add",
        "qwen",
        "--preset",
        "modelstudio-us",
        "--model",
        "qwen-plus",
        "--thinking",
        "on",
    )
    assert status == 0
    qwen = rows(database_url)["qwen"]
    assert qwen.base_url == "https://dashscope-us.aliyuncs.com/compatible-mode/v1"
    assert qwen.api_key_env == "DASHSCOPE_API_KEY" and qwen.extra_body == {"enable_thinking": True}
    assert qwen.source == "cli"

    status, out = cli("models", "list")
    assert status == 0 and "local" in out and "w=2" in out and "$DASHSCOPE_API_KEY (unset)" in out

    assert cli("models", "edit", "local", "--weight", "0.5", "--temperature", "0.2")[0] == 0
    local = rows(database_url)["local"]
    assert (local.weight, local.temperature, local.extra_body) == (0.5, 0.2, {"top_k": 5})
    assert cli("models", "disable", "local") == (0, "disabled local\n")
    assert rows(database_url)["local"].enabled is False
    assert cli("models", "enable", "local") == (0, "enabled local\n")
    assert rows(database_url)["local"].enabled is True

    status, out = cli("models", "retire", "local")
    assert status == 0 and "retired local" in out
    assert rows(database_url)["local"].retired is True
    assert "retired" in cli("models", "list")[1]
    assert cli("models", "restore", "local")[0] == 0
    status, out = cli("models", "retire", "local", "--delete")
    assert status == 0 and "deleted local" in out and "local" not in rows(database_url)

    items = json.loads(cli("models", "list", "--json")[1])
    assert [i["name"] for i in items] == ["qwen"]
    assert items[0]["api_key"] == {
        "env": "DASHSCOPE_API_KEY",
        "env_set": False,
        "stored": None,
        "in_use": "none",
    }


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (("models", "add", "dup", "--base-url", "http://h/v1", "--model", "m"), "exists already"),
        (("models", "add", "x", "--base-url", "h:1", "--model", "m"), "base_url"),
        (
            ("models", "add", "x", "--base-url", "http://h/v1", "--model", "m", "--weight", "-1"),
            "weight",
        ),
        (("models", "add", "x", "--model", "m"), "base_url"),
        (
            (
                "models",
                "add",
                "x",
                "--base-url",
                "http://h/v1",
                "--model",
                "m",
                "--extra-body",
                "{",
            ),
            "--extra-body",
        ),
        (("models", "edit", "dup"), "nothing to change"),
        (("models", "edit", "nope", "--weight", "1"), "no model named 'nope'"),
        (("models", "enable", "nope"), "no model named 'nope'"),
        (("models", "retire", "nope"), "no model named 'nope'"),
        (("models", "test", "nope"), "no model named 'nope'"),
        (("votes", "exclude", "nope", "--reason", "spam"), "no battle"),
    ],
)
def test_bad_input_is_refused_with_a_message(
    cli: Callable[..., tuple[int, str]], database_url: str, args: tuple[str, ...], words: str
) -> None:
    assert cli("models", "add", "dup", "--base-url", "http://h/v1", "--model", "m")[0] == 0
    status, out = cli(*args)
    assert status == 2 and out.startswith("arena: error:") and words in out
    assert set(rows(database_url)) == {"dup"}


def test_unknown_preset_is_refused_by_the_parser(cli: Callable[..., tuple[int, str]]) -> None:
    with pytest.raises(SystemExit):
        cli("models", "add", "x", "--preset", "azure", "--model", "m")


def test_test_command(
    cli: Callable[..., tuple[int, str]], fake: FakeOpenAI, monkeypatch: pytest.MonkeyPatch
) -> None:
    cli("models", "add", "good", "--base-url", fake.base_url, "--model", "upstream-good")
    status, out = cli("models", "test", "good")
    assert status == 0, out
    assert "good: ok — first token after" in out and "tokens/s" in out and "Echo: " in out

    fake.set_behavior("upstream-keyed", Behavior(require_api_key=KEY))
    cli(
        "models",
        "add",
        "keyed",
        "--base-url",
        fake.base_url,
        "--model",
        "upstream-keyed",
        "--api-key-env",
        "TEST_CLI_API_KEY",
    )
    monkeypatch.delenv("TEST_CLI_API_KEY", raising=False)
    status, out = cli("models", "test", "keyed")
    assert status == 1
    assert "FAILED" in out and "refused the API key" in out and "TEST_CLI_API_KEY is not set" in out
    monkeypatch.setenv("TEST_CLI_API_KEY", KEY)
    status, out = cli("models", "test", "keyed", "--json")
    assert status == 0 and json.loads(out)["ok"] is True and KEY not in out

    fake.set_behavior("upstream-missing", Behavior(status=404))
    cli("models", "add", "missing", "--base-url", fake.base_url, "--model", "upstream-missing")
    status, out = cli("models", "test", "missing")
    assert status == 1 and "Unknown model id 'upstream-missing'" in out

    cli("models", "add", "gone", "--base-url", closed_port_url(), "--model", "m")
    status, out = cli("models", "test", "gone")
    assert status == 1 and "Unreachable host" in out


def test_cli_and_server_share_the_database(
    cli: Callable[..., tuple[int, str]], arena_server: ArenaServer, database_url: str
) -> None:
    with arena_server() as srv, srv.client() as c:
        assert (
            cli(
                "models",
                "add",
                "gamma",
                "--base-url",
                "http://127.0.0.1:9/v1",
                "--model",
                "g",
                "--weight",
                "0",
            )[0]
            == 0
        )
        names = [m["name"] for m in c.get("/api/admin/models", headers=AUTH).json()]
        assert names == ["alpha", "beta", "gamma"]
        battle = play(c, "model_a", "Count me")

        status, out = cli("votes", "list")
        assert status == 0 and battle in out and "Count me" in out
        status, out = cli("votes", "exclude", battle, "--reason", "spam")
        assert status == 0 and "excluded" in out
        vote = c.get(f"/api/admin/votes/{battle}", headers=AUTH).json()
        assert vote["excluded"] is True and vote["exclude_reason"] == "spam"
        status, out = cli("votes", "list", "--excluded", "yes")
        assert battle in out and "[excluded: spam]" in out
        assert cli("votes", "include", battle)[0] == 0
        engine = make_engine(database_url)
        with Session(engine) as session:
            row = session.exec(select(Vote).where(Vote.battle_id == battle)).one()
            assert (row.excluded, row.counted) == (False, True)
        engine.dispose()
        assert "no votes match" in cli("votes", "list", "--model", "gamma")[1]
