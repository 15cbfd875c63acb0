"""Processes the benchmarks run on loopback: the fake upstream and an arena server."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
import timeit
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import tomli_w

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    """A port nobody listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def fake_upstream(*args: str) -> Iterator[str]:
    """`python -m tests.fake_openai ARGS` in a subprocess; yields its base URL."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.fake_openai", "--port", "0", *args],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        yield proc.stdout.readline().strip()
    finally:
        proc.terminate()
        proc.wait(10)


@contextmanager
def arena_process(
    base_url: str,
    models: dict[str, str],
    database_url: str | None = None,
    workers: int = 1,
    vision: bool = False,
    **env: str,
) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """`arena serve` in a subprocess with the given models on one upstream; yields (url, proc)."""
    with tempfile.TemporaryDirectory() as tmp:
        models_file = Path(tmp) / "models.toml"
        models_file.write_text(
            tomli_w.dumps(
                {
                    "models": [
                        {"name": name, "base_url": base_url, "model": upstream, "vision": vision}
                        for name, upstream in models.items()
                    ]
                }
            )
        )
        port = free_port()
        environ = {
            **os.environ,
            "ARENA_DATABASE_URL": database_url or f"sqlite:///{tmp}/arena.db",
            "ARENA_MODELS": str(models_file),
            "ARENA_CONFIG": str(Path(tmp) / "none.toml"),
            "ARENA_SECRET_KEY": "benchmark-secret-key-0123456789abcdef",
            **env,
        }
        proc = subprocess.Popen(
            [
                *(sys.executable, "-m", "arena", "serve", "--port", str(port)),
                *("--log-level", "warning", "--workers", str(workers)),
            ],
            cwd=ROOT,
            env=environ,
        )
        url = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 60
            while True:
                try:
                    if httpx.get(f"{url}/api/health", timeout=1).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("the arena did not start")
                time.sleep(0.1)
            yield url, proc
        finally:
            proc.terminate()
            proc.wait(15)


def rss_mb(pid: int) -> float:
    """Resident memory of a process, in MB (Linux)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def percentile(values: list[float], q: float) -> float:
    """The q-th percentile (0–100) of values, nearest-rank."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    k = max(0, min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1))))
    return ordered[k]


def cpu_speed() -> float:
    """Milliseconds for a fixed piece of Python (best of 5): shared machines change speed, and
    the figures above are only comparable between runs whose checks agree."""
    return min(timeit.repeat("sum(range(10**6))", number=10, repeat=5)) / 10 * 1000
