"""Run the arena as a real process (`uvicorn arena.asgi:app`) for durability, scale-out and load.

Unlike `tests.servers.ThreadedServer`, this is a separate OS process: it can be killed with SIGKILL,
run several at once on one database, or given `--workers N`. Settings go in through `ARENA_*`
environment variables, exactly as in production.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from types import TracebackType
from typing import IO

import httpx

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    """A loopback port that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class ArenaProcess:
    """`with ArenaProcess({"ARENA_DATABASE_URL": …}) as srv: srv.url` — started, stopped on exit."""

    def __init__(
        self,
        env: dict[str, str],
        *,
        workers: int = 1,
        port: int | None = None,
        extra_args: tuple[str, ...] = (),
        command: list[str] | None = None,
        cwd: Path | None = None,
    ) -> None:
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("ARENA_")}
        self.env.update(env)
        if command is None:
            self.env.setdefault("ARENA_CONFIG", str(ROOT / "no-such-arena.toml"))
        self.workers = workers
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.extra_args = extra_args
        # Another server command (e.g. an installed `arena serve`), given --host and --port.
        self.command = command
        self.cwd = cwd or ROOT
        self.proc: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None

    def start(self, timeout: float = 60.0) -> ArenaProcess:
        """Start the server and wait until `/api/health` answers 200."""
        return self.spawn().wait_ready(timeout)

    def spawn(self) -> ArenaProcess:
        """Start the server process without waiting for it (to start several at once)."""
        self._log = tempfile.TemporaryFile()  # noqa: SIM115 - outlives this call; stop() closes it
        cmd = [
            sys.executable,
            "-m",
            "uvicorn",
            "arena.asgi:app",
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--log-level",
            "warning",
            "--no-access-log",
            "--timeout-graceful-shutdown",
            "5",
            *self.extra_args,
        ]
        if self.command is not None:
            cmd = [*self.command, "--host", "127.0.0.1", "--port", str(self.port), *self.extra_args]
        if self.workers > 1:
            cmd += ["--workers", str(self.workers)]
        # Its own process group, so that killing it also kills uvicorn's worker processes.
        self.proc = subprocess.Popen(
            cmd,
            cwd=self.cwd,
            env=self.env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        return self

    def wait_ready(self, timeout: float = 60.0) -> ArenaProcess:
        """Wait until `/api/health` answers 200; RuntimeError with the log if the server exits."""
        assert self.proc is not None, "spawn() first"
        deadline = time.monotonic() + timeout
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError(f"arena exited with {self.proc.returncode}:\n{self.log()}")
            try:
                if httpx.get(f"{self.url}/api/health", timeout=2).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                self.kill()
                raise TimeoutError(f"arena did not start within {timeout} s:\n{self.log()}")
            time.sleep(0.05)

    def log(self) -> str:
        """What the server printed so far."""
        if self._log is None:
            return ""
        self._log.seek(0)
        return self._log.read().decode("utf-8", "replace")

    def kill(self) -> None:
        """SIGKILL the server and its workers: no shutdown code runs at all."""
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
        if self.proc is not None:
            self.proc.wait(10)

    def stop(self) -> None:
        """SIGTERM (graceful shutdown), then SIGKILL if it lingers."""
        if self.proc is None:
            return
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.kill()
        if self._log is not None:
            self._log.close()
            self._log = None

    def pids(self) -> list[int]:
        """The server's process and its direct children (uvicorn's workers)."""
        return [] if self.proc is None else family(self.proc.pid)

    def cpu_seconds(self) -> float:
        """CPU time (user + system) the server and its workers have used so far (Linux /proc)."""
        return cpu_seconds(self.pids())

    def rss_bytes(self) -> int:
        """Resident memory of the server and its workers (Linux /proc)."""
        total = 0
        for pid in self.pids():
            try:
                for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1]) * 1024
            except FileNotFoundError:
                continue
        return total

    def __enter__(self) -> ArenaProcess:
        return self.start()

    def __exit__(
        self, et: type[BaseException] | None, ev: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()


def family(pid: int) -> list[int]:
    """A process and its direct children (Linux /proc)."""
    children = Path(f"/proc/{pid}/task/{pid}/children")
    return [pid, *(int(p) for p in children.read_text().split())] if children.exists() else [pid]


def cpu_seconds(pids: list[int]) -> float:
    """CPU time (user + system) these processes have used so far (Linux /proc)."""
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except FileNotFoundError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime (clock ticks)
    return total / os.sysconf("SC_CLK_TCK")
