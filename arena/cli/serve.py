"""`arena serve`, and the uvicorn launcher that `arena demo` shares."""

from __future__ import annotations

import argparse
import os
from typing import Any


def add_listen_options(p: argparse.ArgumentParser) -> None:
    """--host, --port and --log-level, the options of every command that runs the server."""
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8000)
    p.add_argument("--log-level", default="info")


def run_server(
    app: Any,
    args: argparse.Namespace,
    *,
    database_url: str,
    workers: int = 1,
    log_format: str = "text",
) -> None:
    """uvicorn with the arena's choices; `app` is an app, or an import string for workers.

    While it serves, `.arena-server.json` names its database for `arena …` in other shells."""
    import uvicorn

    from arena.cli.server_state import server_state

    with server_state(database_url):
        _run_uvicorn(uvicorn, app, args, workers, log_format)


def _run_uvicorn(
    uvicorn: Any, app: Any, args: argparse.Namespace, workers: int, log_format: str
) -> None:
    from arena.core.logs import log_config

    uvicorn.run(
        app,
        host=args.host,
        port=args.port,
        workers=workers,
        log_level=args.log_level,
        log_config=log_config(log_format, args.log_level),
        timeout_graceful_shutdown=5,
        # Which proxy headers to trust is the arena's setting (trusted_proxy_headers), not
        # uvicorn's default of believing X-Forwarded-For from localhost.
        proxy_headers=False,
    )


def metrics_folder_for_workers() -> None:
    """prometheus-client's multiprocess mode: every worker writes its values to files in
    PROMETHEUS_MULTIPROC_DIR and a scrape adds them up. A given folder is emptied (values of a
    previous run would be added in); otherwise a new one is made, and removed at exit."""
    import atexit
    import shutil
    import tempfile
    from pathlib import Path

    given = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if given:
        Path(given).mkdir(parents=True, exist_ok=True)
        for stale in Path(given).glob("*.db"):
            stale.unlink()
        return
    folder = tempfile.mkdtemp(prefix="arena-metrics-")
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = folder
    atexit.register(shutil.rmtree, folder, ignore_errors=True)


def serve(args: argparse.Namespace) -> int:
    """Run the arena web server until Ctrl-C."""
    from arena.core.settings import load_settings

    settings = load_settings()
    if args.workers > 1:
        metrics_folder_for_workers()
        # Each worker process builds its own app from the same settings (arena/asgi.py).
        run_server(
            "arena.asgi:app",
            args,
            database_url=settings.database_url,
            workers=args.workers,
            log_format=settings.log_format,
        )
    else:
        from arena.web.app import create_app

        run_server(
            create_app(settings),
            args,
            database_url=settings.database_url,
            log_format=settings.log_format,
        )
    return 0


def register(sub: Any) -> None:
    """Add `serve` to the CLI."""
    p = sub.add_parser("serve", help="run the arena web server")
    add_listen_options(p)
    p.add_argument(
        "--workers", type=int, default=1, help="worker processes (all share the database)"
    )
    p.set_defaults(func=serve)
