"""The `arena` command: serve, manage models, rank battles, move battle files."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import Any

from arena.core.settings import load_settings


def run_server(app: Any, args: argparse.Namespace, *, workers: int = 1) -> None:
    """uvicorn with the arena's choices; `app` is an app, or an import string for workers."""
    import uvicorn

    uvicorn.run(
        app,
        host=args.host,
        port=args.port,
        workers=workers,
        log_level=args.log_level,
        timeout_graceful_shutdown=5,
        # Which proxy headers to trust is the arena's setting (trusted_proxy_headers), not
        # uvicorn's default of believing X-Forwarded-For from localhost.
        proxy_headers=False,
    )


def _serve(args: argparse.Namespace) -> int:
    from arena.web.app import create_app

    if args.workers > 1:
        # Each worker process builds its own app from the same settings (arena/asgi.py).
        run_server("arena.asgi:app", args, workers=args.workers)
    else:
        run_server(create_app(load_settings()), args)
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The CLI's argument parser (subcommands register their own options)."""
    parser = argparse.ArgumentParser(prog="arena", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", help="run the arena web server")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--log-level", default="info")
    serve.add_argument(
        "--workers", type=int, default=1, help="worker processes (all share the database)"
    )
    serve.set_defaults(func=_serve)

    from arena.cli import demo
    from arena.cli import models as cli_models
    from arena.cli import ratings as cli_ratings

    cli_models.register(sub)
    cli_ratings.register(sub)
    demo.register_cli(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `arena` console script."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args))
    except KeyboardInterrupt:
        return 130
    except (ValueError, LookupError) as exc:
        print(f"arena: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
