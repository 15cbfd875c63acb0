"""Real local models: Gemma 3 270M served by llama-cpp-python's OpenAI-compatible server.

The public face of `local_specs` (what a local model is) and `local_servers` (running them):
`arena demo` and the real-model tests import from here.
"""

from __future__ import annotations

from arena.cli.local_servers import (
    STARTUP_TIMEOUT_S,
    STOP_GRACE_S,
    LocalServerError,
    LocalServers,
)
from arena.cli.local_specs import (
    DEFAULT_SPECS,
    DIALOGUE_CHAT_FORMAT,
    GEMMA3_CHAT_FORMAT,
    LICENSE,
    MODEL_PACKAGE,
    ORGANIZATION,
    SNOOZY_CHAT_FORMAT,
    LocalServerSpec,
    available,
    model_path,
    server_command,
    specs_differ,
)

__all__ = [
    "DEFAULT_SPECS",
    "DIALOGUE_CHAT_FORMAT",
    "GEMMA3_CHAT_FORMAT",
    "LICENSE",
    "MODEL_PACKAGE",
    "ORGANIZATION",
    "SNOOZY_CHAT_FORMAT",
    "STARTUP_TIMEOUT_S",
    "STOP_GRACE_S",
    "LocalServerError",
    "LocalServerSpec",
    "LocalServers",
    "available",
    "model_path",
    "server_command",
    "specs_differ",
]
