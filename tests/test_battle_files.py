"""Battle files going round: export → import → export → import never counts a battle twice,
and a voter keeps one `judge` id however often the file travels."""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlmodel import Session, func, select

from arena.cli.main import main
from arena.store.engine import make_engine, migrate, session_scope
from arena.store.tables import Battle, Endpoint, Vote
from tests.databases import postgres_database

Cli = Callable[..., tuple[int, str, str]]


@pytest.fixture
def run_cli(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> Callable[..., tuple[int, str, str]]:
    """Run `arena …` in-process on a given database; returns (exit status, stdout, stderr)."""
    monkeypatch.setenv("ARENA_CONFIG", str(tmp_path / "none.toml"))
    monkeypatch.setenv("ARENA_SECRET_KEY", "test-secret-key-0123456789abcdef0123")

    def run(url: str, *args: str) -> tuple[int, str, str]:
        monkeypatch.setenv("ARENA_DATABASE_URL", url)
        status = main(list(args))
        out = capsys.readouterr()
        return status, out.out, out.err

    return run


@contextmanager
def other_database(database_url: str, tmp_path: Path) -> Iterator[str]:
    """A second, empty database of the same kind as `database_url`."""
    if database_url.startswith("sqlite"):
        yield f"sqlite:///{tmp_path / 'fresh.db'}"
    else:
        with postgres_database() as url:
            yield url


def add_native_votes(url: str, n: int = 5) -> None:
    """Battles voted in the arena itself (no external id), by two voters."""
    engine = make_engine(url)
    migrate(engine)
    with session_scope(engine) as session:
        ids = []
        for name in ("alpha", "beta"):
            e = Endpoint(name=name, base_url="http://127.0.0.1:1/v1", model=name)
            session.add(e)
            session.flush()
            ids.append(e.id)
        for k in range(n):
            battle_id = secrets.token_hex(12)
            voter = f"voter-{k % 2}"
            session.add(
                Battle(
                    id=battle_id,
                    voter_id=voter,
                    model_a_id=ids[0],
                    model_b_id=ids[1],
                    status="voted",
                )
            )
            session.flush()
            session.add(
                Vote(
                    battle_id=battle_id,
                    winner="model_a" if k % 3 else "tie",
                    voter_id=voter,
                    model_a_id=ids[0],
                    model_b_id=ids[1],
                )
            )
    engine.dispose()


def vote_count(url: str) -> int:
    """Rows in the vote table."""
    engine = make_engine(url)
    try:
        with Session(engine) as session:
            return int(session.exec(select(func.count()).select_from(Vote)).one())
    finally:
        engine.dispose()


def records(path: Path) -> list[dict[str, object]]:
    """The records of a JSON Lines file."""
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_round_trips_never_count_a_battle_twice(
    database_url: str, tmp_path: Path, run_cli: Cli
) -> None:
    add_native_votes(database_url)
    first = tmp_path / "first.jsonl"
    assert run_cli(database_url, "battles", "export", "--out", str(first))[0] == 0
    # The same database: every record is one of its own battles.
    status, out, _ = run_cli(database_url, "battles", "import", str(first))
    assert (status, out.split(";")[0].strip()) == (
        0,
        "0 imported, 5 duplicates skipped, 0 rejected of 5 records",
    )
    assert vote_count(database_url) == 5
    with other_database(database_url, tmp_path) as fresh:
        assert run_cli(fresh, "battles", "import", str(first))[1].startswith("5 imported")
        assert run_cli(fresh, "battles", "import", str(first))[1].startswith("0 imported")
        second = tmp_path / "second.jsonl"
        assert run_cli(fresh, "battles", "export", "--out", str(second))[0] == 0
        # Back into the database it came from, and into the copy: nothing new either way.
        for url in (database_url, fresh):
            assert run_cli(url, "battles", "import", str(second))[1].startswith("0 imported")
            assert vote_count(url) == 5
        status, out, _ = run_cli(fresh, "leaderboard", "--format", "json")
        assert status == 0
        assert json.loads(out)["total_battles"] == 5


def test_a_voter_keeps_one_judge_id_across_round_trips(
    database_url: str, tmp_path: Path, run_cli: Cli
) -> None:
    add_native_votes(database_url)
    first = tmp_path / "first.jsonl"
    run_cli(database_url, "battles", "export", "--out", str(first))
    judges = {r["question_id"]: r["judge"] for r in records(first)}
    assert len(set(judges.values())) == 2  # two voters, hashed once
    assert not {"voter-0", "voter-1"} & set(judges.values())
    with other_database(database_url, tmp_path) as fresh:
        run_cli(fresh, "battles", "import", str(first))
        second = tmp_path / "second.jsonl"
        run_cli(fresh, "battles", "export", "--out", str(second))
        assert {r["question_id"]: r["judge"] for r in records(second)} == judges
        # A file's own judge ids pass through unchanged too.
        third = tmp_path / "third.jsonl"
        third.write_text(
            json.dumps({"model_a": "p", "model_b": "q", "winner": "tie", "judge": "arena_user_7"})
            + "\n",
            encoding="utf-8",
        )
        run_cli(fresh, "battles", "import", str(third))
        fourth = tmp_path / "fourth.jsonl"
        run_cli(fresh, "battles", "export", "--out", str(fourth))
        assert "arena_user_7" in {r["judge"] for r in records(fourth)}


def bad_file(path: Path) -> Path:
    """Two good records around every kind of bad one, one a line."""
    good = {"model_a": "m1", "model_b": "m2", "winner": "model_a"}

    def line(**fields: object) -> str:
        return json.dumps({**good, **fields})

    lines = [
        line(question_id="ok-1"),
        line(question_id="b2", tstamp=1e20),
        line(question_id="b3").replace("}", ', "tstamp": NaN}'),
        line(question_id="b4", tstamp=-1e15),
        line(question_id="b5").replace(
            "}", ', "conv_metadata": {"sum_assistant_a_tokens": 1' + "0" * 400 + "}}"
        ),
        line(question_id="b6").replace("}", ', "deep": ' + "[" * 100_000 + "]" * 100_000 + "}"),
        line(question_id="b7", conversation_a=[{"role": "user", "content": "x\ud800"}]),
        line(question_id="b8", model_a="n" * 101),
        line(question_id="b9", model_a="bell\u0007"),
        line(question_id="b10", model_a="evil\u202eexe.txt"),
        line(question_id="b11", model_a="<script>alert(1)</script>"),
        line(question_id="ok-2", winner="tie"),
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_bad_records_are_skipped_with_their_line(
    database_url: str, tmp_path: Path, run_cli: Cli
) -> None:
    path = bad_file(tmp_path / "bad.jsonl")
    status, out, err = run_cli(database_url, "battles", "import", str(path))
    assert status == 1
    assert out.startswith("2 imported, 0 duplicates skipped, 10 rejected of 12 records")
    rejected = [e for e in err.splitlines() if ": rejected: " in e]
    assert [int(e.split(":")[1]) for e in rejected] == list(range(2, 12))
    assert all(len(e) < 300 for e in rejected)  # a reason, not a dump of the record
    for no, word in (
        (2, "tstamp"),
        (3, "tstamp"),
        (4, "tstamp"),
        (5, "conv_metadata"),
        (6, "deep"),
        (7, "Unicode"),
        (8, "100"),
        (9, "model_a"),
        (10, "model_a"),
        (11, "model_a"),
    ):
        assert word in rejected[no - 2], rejected[no - 2]
    assert vote_count(database_url) == 2
    names = run_cli(database_url, "leaderboard", "--format", "json")[1]
    assert {m["model"] for m in json.loads(names)["models"]} == {"m1", "m2"}


def test_strict_stops_at_the_first_bad_line(
    database_url: str, tmp_path: Path, run_cli: Cli
) -> None:
    path = bad_file(tmp_path / "bad.jsonl")
    status, out, err = run_cli(database_url, "battles", "import", str(path), "--strict")
    assert (status, out) == (1, "")
    assert err.splitlines()[0].startswith(f"{path}:2: rejected: ")
    assert ": rejected: " not in "".join(err.splitlines()[1:])
    assert vote_count(database_url) == 0
