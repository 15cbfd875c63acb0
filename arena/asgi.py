"""The ASGI entry point for process managers: `uvicorn arena.asgi:app --workers N`.

Importing it only reads the settings (`ARENA_*`, `ARENA_CONFIG`); the engine, the upstream clients
and the secrets are built when each worker starts the app, so every worker gets its own.
"""

from __future__ import annotations

from arena.web.app import create_app

app = create_app()
