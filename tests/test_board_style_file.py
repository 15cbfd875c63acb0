"""`arena leaderboard --battles FILE --style-control` on a file with conversations but no
`conv_metadata`: the features come from the conversations, as `arena battles import` does."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

from arena.cli.main import main
from arena.votes.tags import style_vector
from ratings import load_battles


def conversation(prompt: str, answer: str) -> list[dict[str, str]]:
    """One turn as an OpenAI-style message list."""
    return [{"role": "user", "content": prompt}, {"role": "assistant", "content": answer}]


def write_file(path: Path, n: int = 120) -> Path:
    """Battles among three models whose answers differ in length and markdown."""
    rng = random.Random(3)
    styles = {
        "plain": "Sure. " * 5,
        "lists": "# Answer\n\n- one\n- two\n- **three**\n",
        "long": "word " * 80,
    }
    names = list(styles)
    rows = []
    for i in range(n):
        a, b = rng.sample(names, 2)
        rows.append(
            {
                "question_id": f"q{i}",
                "model_a": a,
                "model_b": b,
                "winner": rng.choice(["model_a", "model_b", "tie"]),
                "conversation_a": conversation(f"question {i}", styles[a] + str(i)),
                "conversation_b": conversation(f"question {i}", styles[b] + str(i)),
            }
        )
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def test_style_features_come_from_conversations(tmp_path: Path) -> None:
    path = write_file(tmp_path / "conv.jsonl")
    battles = load_battles(path, style_from_conversations=True).battles
    assert battles.style is not None
    first = json.loads(path.read_text(encoding="utf-8").splitlines()[0])
    answers = [
        [m["content"] for m in first[k] if m["role"] == "assistant"]
        for k in ("conversation_a", "conversation_b")
    ]
    assert battles.style[0].ravel().tolist() == style_vector(answers[0], answers[1])


def test_cli_style_control_on_conversations(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("ARENA_CONFIG", str(tmp_path / "none.toml"))
    path = write_file(tmp_path / "conv.jsonl")
    status = main(["leaderboard", "--battles", str(path), "--style-control", "--format", "json"])
    out = capsys.readouterr()
    assert status == 0, out.err
    data = json.loads(out.out)
    assert data["style_control"] is True and data["total_battles"] == 120
    assert set(data["style_coefficients"]) == {"tokens", "headers", "lists", "bold"}
