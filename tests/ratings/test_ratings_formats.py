"""Exports: the contract's JSON, and CSV / Markdown / table with the same columns."""

from __future__ import annotations

import csv
import io
import json

import numpy as np
import pytest

from ratings import Battles, compute_leaderboard
from ratings.formats import COLUMNS, to_csv, to_json_dict, to_markdown, to_table

CONTRACT_TOP = {"generated_at", "total_battles", "method", "ci", "style_control", "category"}


@pytest.fixture
def lb(make_battles):
    board = compute_leaderboard(make_battles(np.array([0.0, 0.6, -0.6, 0.3]), 800, seed=51))
    board.category = "coding"
    return board


def test_json_matches_contract(lb):
    d = json.loads(json.dumps(to_json_dict(lb)))
    assert CONTRACT_TOP | {"models"} <= set(d)
    assert d["method"] == "bt" and d["ci"] == "sandwich" and d["style_control"] is False
    assert d["category"] == "coding" and d["total_battles"] == 800
    assert isinstance(d["generated_at"], str)
    for row, r in zip(d["models"], lb.models, strict=True):
        assert set(COLUMNS) <= set(row)
        assert row["model"] == r.model and row["rating"] == r.rating
        assert row["rank"] == r.rank and row["rank_ub"] == r.rank_ub
        assert isinstance(row["preliminary"], bool) and isinstance(row["battles"], int)
        assert row["elo"] == pytest.approx(r.elo)
    ratings = [m["rating"] for m in d["models"]]
    assert ratings == sorted(ratings, reverse=True)


def test_csv_parses_back(lb):
    rows = list(csv.DictReader(io.StringIO(to_csv(lb))))
    assert list(rows[0]) == list(COLUMNS)
    for row, r in zip(rows, lb.models, strict=True):
        assert row["model"] == r.model
        assert float(row["rating"]) == pytest.approx(r.rating, abs=0.005)
        assert float(row["ci_lower"]) == pytest.approx(r.ci_lower, abs=0.005)
        assert float(row["ci_upper"]) == pytest.approx(r.ci_upper, abs=0.005)
        assert float(row["win_rate"]) == pytest.approx(r.win_rate, abs=5e-5)
        ints = ("rank", "rank_ub", "battles", "wins", "losses", "ties")
        assert [int(row[k]) for k in ints] == [getattr(r, k) for k in ints]
        assert row["preliminary"] == str(r.preliminary).lower()


def test_markdown_and_table_have_the_same_columns(lb):
    md = to_markdown(lb).splitlines()
    assert [c.strip() for c in md[0].strip("|").split("|")] == list(COLUMNS)
    assert len(md) == 2 + len(lb.models)
    first = [c.strip() for c in md[2].strip("|").split("|")]
    assert first[0] == lb.models[0].model and float(first[1]) == pytest.approx(
        lb.models[0].rating, abs=0.005
    )
    table = to_table(lb).splitlines()
    assert table[0].split() == list(COLUMNS)
    assert table[1].split()[0] == lb.models[0].model


def test_markdown_escapes_pipes_and_table_shows_warnings():
    board = compute_leaderboard(Battles.from_records([("a|b", "c", "model_a")]))
    assert "a\\|b" in to_markdown(board)
    assert "warning:" in to_table(board)


def test_empty_leaderboard_exports():
    board = compute_leaderboard(Battles.from_records([]))
    assert to_json_dict(board)["models"] == []
    assert to_csv(board).strip() == ",".join(COLUMNS)
    assert to_markdown(board).count("\n") == 2
