"""The admin: endpoints, API keys, connection tests, presets, vote review and export.

The work lives in plain functions here (`crud`, `testing`, `review`, `export`, …) that the admin
API, the admin pages and the `arena models` CLI all call; the routes only parse and render.
"""

from __future__ import annotations

from arena.core.errors import BattleError


class AdminError(BattleError):
    """A request the admin cannot carry out; `status` is the HTTP status to answer.

    A `BattleError`, so the app's handler answers it as JSON `{"detail": …}` on the API.
    """
