"""The arena app run inside the test process: no socket, no uvicorn.

`InProcessArena(app)` runs the app's lifespan (migrations, seeding, the leaderboard refresher, the
battle starter) in an event loop of its own thread, exactly as starlette's `TestClient` does when
used as a context manager. `arena.client()` is a voter: an httpx client with its own cookie jar
whose requests run in that same event loop, so the background tasks a request starts keep running
between requests. Responses stream as the app sends them (an SSE answer arrives piece by piece),
and closing a stream early cancels its request.

Unlike a server, there are no client timeouts (a request that never ends hangs its test), and
stopping begins at once (uvicorn notices a stop on its next tick, up to 0.1 s later): a test whose
checks depend on work left running in the background waits for that work before it stops.

`tests.servers.ThreadedServer` has the same `url`, `app` and `client()`: a test that needs a real
socket (a browser) uses it instead.
"""

from __future__ import annotations

from types import TracebackType
from typing import Any, Protocol

import httpx
from anyio.from_thread import BlockingPortal
from fastapi import FastAPI
from starlette.testclient import TestClient

# Requests come from this peer address (what `request.client` and the per-IP limits see).
CLIENT = ("127.0.0.1", 50000)
Cookies = httpx.Cookies | dict[str, str]


class RunningArena(Protocol):
    """A started arena, in process or on loopback."""

    url: str
    app: Any

    def client(
        self, *, cookies: Cookies | None = None, headers: dict[str, str] | None = None
    ) -> httpx.Client: ...


class InProcessArena:
    """`with InProcessArena(create_app(settings)) as srv: srv.client()`; stopped on leaving."""

    url = "http://testserver"

    def __init__(self, app: FastAPI) -> None:
        self.app = app
        # Entering this client runs the lifespan; its portal is the arena's event loop.
        self._main = TestClient(app, base_url=self.url, client=CLIENT, follow_redirects=False)
        self.portal: BlockingPortal | None = None

    def __enter__(self) -> InProcessArena:
        self._main.__enter__()
        self.portal = self._main.portal
        return self

    def __exit__(
        self, et: type[BaseException] | None, ev: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.portal = None
        self._main.__exit__(et, ev, tb)

    def client(
        self, *, cookies: Cookies | None = None, headers: dict[str, str] | None = None
    ) -> ArenaClient:
        """A new voter (its own cookie jar) on this arena."""
        if self.portal is None:
            raise RuntimeError("the arena is not running")
        return ArenaClient(self, cookies=cookies, headers=headers)


class ArenaClient(TestClient):
    """A client of an arena already running in this process.

    Unlike a plain `TestClient`, entering it does not start the app a second time: `with` only
    closes it at the end, as with an `httpx.Client`. Redirects are not followed (httpx's default).
    """

    def __init__(
        self,
        arena: InProcessArena,
        *,
        cookies: Cookies | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(
            arena.app,
            base_url=arena.url,
            client=CLIENT,
            follow_redirects=False,
            cookies=cookies,
            headers=headers,
        )
        self.portal = arena.portal  # requests run in the arena's event loop
        self.app_state.update(arena._main.app_state)  # the lifespan's state, as uvicorn shares it

    def __enter__(self) -> ArenaClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
