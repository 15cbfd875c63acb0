"""The wheel, as a new user gets it: built, installed (not editable) into a fresh virtual
environment, configured with `arena init` and served by `arena serve` from a folder that is not
the repository. The fake upstream runs in this process (the repository's environment)."""

from __future__ import annotations

import re
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.arena_process import ROOT, ArenaProcess
from tests.conftest import MODELS, answers, read_events, write_models
from tests.fake_openai import FakeOpenAI

pytestmark = pytest.mark.wheel


def run(*cmd: str | Path, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    """A command that must succeed (its output is in the failure message otherwise)."""
    done = subprocess.run(
        [str(c) for c in cmd], cwd=cwd, capture_output=True, text=True, timeout=900
    )
    assert done.returncode == 0, f"{cmd} failed:\n{done.stdout}\n{done.stderr}"
    return done


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The arena's wheel, built from this checkout."""
    dist = tmp_path_factory.mktemp("dist")
    run(sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", dist, ROOT)
    return next(dist.glob("arena-*.whl"))


@pytest.fixture(scope="module")
def venv_bin(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The `bin/` of a fresh virtual environment with the wheel installed (pip's cache keeps the
    dependencies' download cheap)."""
    venv = tmp_path_factory.mktemp("venv")
    run(sys.executable, "-m", "venv", venv)
    run(venv / "bin" / "python", "-m", "pip", "install", "-q", wheel)
    return venv / "bin"


def test_the_wheel_carries_what_the_server_reads(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    for needed in (
        "arena/assets/templates/base.html",
        "arena/assets/static/arena.css",
        "arena/examples/arena.toml",
        "arena/examples/models.toml",
        "arena/store/migrations/env.py",
        "arena/store/migrations/versions/0001_initial_schema.py",
    ):
        assert needed in names
    # The local htmx ships when it was fetched before the build (scripts/vendor_htmx.sh).
    if (ROOT / "web/static/vendor/htmx.min.js").is_file():
        assert "arena/assets/static/vendor/htmx.min.js" in names
    assert not any(n.startswith(("web/", "configs/", "tests/")) for n in names)


def test_init_writes_starter_files_and_refuses_to_overwrite(venv_bin: Path, tmp_path: Path) -> None:
    run(venv_bin / "arena", "init", cwd=tmp_path)
    assert "[arena]" in (tmp_path / "arena.toml").read_text()
    assert "[[models]]" in (tmp_path / "models.toml").read_text()
    (tmp_path / "models.toml").write_text("# mine\n")
    again = subprocess.run(
        [venv_bin / "arena", "init"], cwd=tmp_path, capture_output=True, text=True
    )
    assert again.returncode == 1 and "--force" in again.stderr
    assert (tmp_path / "models.toml").read_text() == "# mine\n"
    run(venv_bin / "arena", "init", "--force", cwd=tmp_path)
    assert "[[models]]" in (tmp_path / "models.toml").read_text()


@pytest.fixture
def served(venv_bin: Path, tmp_path: Path, fake: FakeOpenAI) -> Iterator[httpx.Client]:
    """`arena serve` of the installed wheel, in a folder made by `arena init`."""
    site = tmp_path / "site"
    site.mkdir()
    run(venv_bin / "arena", "init", cwd=site)
    # arena.toml (as written) names models.toml beside it; point that at the fake upstream.
    write_models(site / "models.toml", fake.base_url)
    env = {
        "ARENA_ADMIN_TOKEN": "wheel-admin-token-0123",
        "ARENA_SECRET_KEY": "wheel-secret-key-0123456789abcdef0123",
    }
    with (
        ArenaProcess(env, command=[str(venv_bin / "arena"), "serve"], cwd=site) as server,
        httpx.Client(base_url=server.url, timeout=30) as client,
    ):
        yield client
    assert (site / "arena.db").exists()  # the default database, in the folder it runs in


def test_installed_arena_serves_a_battle_pages_and_static_files(served: httpx.Client) -> None:
    started = served.post("/api/battles", json={"prompt": "Say something about wheels"})
    assert started.status_code == 201, started.text
    battle = started.json()["battle_id"]
    text = answers(read_events(served, f"/api/battles/{battle}/stream"))
    assert text["a"] and text["b"]
    vote = served.post(f"/api/battles/{battle}/vote", json={"winner": "model_a"})
    assert vote.status_code == 200, vote.text
    assert {vote.json()["model_a"], vote.json()["model_b"]} == set(MODELS)

    for path in ("/", "/leaderboard", "/admin/login", "/docs", "/openapi.json"):
        assert served.get(path).status_code == 200, path
    home = served.get("/").text
    assert served.get("/static/arena.css").status_code == 200
    for src in re.findall(r'<script[^>]+src="(/static/[^"?]+)', home):
        assert served.get(src).status_code == 200, src
    if (ROOT / "web/static/vendor/htmx.min.js").is_file():
        assert "/static/vendor/htmx.min.js" in home  # the local copy, shipped in the wheel
