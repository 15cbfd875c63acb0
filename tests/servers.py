"""Run an ASGI app under uvicorn on a loopback port in a background thread (tests, benchmarks)."""

from __future__ import annotations

import socket
import threading
import time
from types import TracebackType
from typing import Any

import httpx
import uvicorn

from tests.inproc import Cookies


class ThreadedServer:
    """A real HTTP server for an app: `with ThreadedServer(app) as srv: srv.url`."""

    def __init__(self, app: Any, host: str = "127.0.0.1") -> None:
        self.app = app
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind((host, 0))
        self.port = self.sock.getsockname()[1]
        self.url = f"http://{host}:{self.port}"
        config = uvicorn.Config(
            app,
            log_level="warning",
            lifespan="on",
            timeout_graceful_shutdown=3,
            ws="none",
            # The arena decides which proxy headers to trust (ARENA_TRUSTED_PROXY_HEADERS).
            proxy_headers=False,
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(
            target=self.server.run, kwargs={"sockets": [self.sock]}, daemon=True
        )

    def __enter__(self) -> ThreadedServer:
        self.thread.start()
        deadline = time.monotonic() + 30
        while not self.server.started:
            if not self.thread.is_alive():
                raise RuntimeError("the server did not start (see the log above)")
            if time.monotonic() > deadline:
                raise TimeoutError("the server did not start within 30 s")
            time.sleep(0.01)
        return self

    def client(
        self, *, cookies: Cookies | None = None, headers: dict[str, str] | None = None
    ) -> httpx.Client:
        """A new client (its own cookie jar) of this server."""
        return httpx.Client(base_url=self.url, cookies=cookies, headers=headers, timeout=30)

    def __exit__(
        self, et: type[BaseException] | None, ev: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.server.should_exit = True
        self.thread.join(10)
        self.sock.close()
