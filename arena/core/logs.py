"""How the arena logs: plain text or JSON lines (`log_format`), every line with the id of the
request it belongs to (`X-Request-ID`), and the chatty client libraries kept at WARNING.

At DEBUG the openai client logs whole request bodies, prompts included; the arena's own lines
name battles and models, never prompt text, keys or cookies (tests/test_logs.py checks)."""

from __future__ import annotations

import logging
import logging.config
from typing import Any

from asgi_correlation_id.context import correlation_id

TEXT = "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"
JSON_FIELDS = "%(asctime)s %(levelname)s %(name)s %(request_id)s %(message)s"
# Loggers that would write request bodies, headers (keys, cookies) or form parts at DEBUG.
QUIET = ("openai", "httpx", "httpcore", "aiohttp", "multipart", "python_multipart", "hpack")


class RequestIdFilter(logging.Filter):
    """Adds `request_id` (the current request's, or "-") to every record."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Always keeps the record."""
        record.request_id = correlation_id.get() or "-"
        return True


def log_config(log_format: str, level: str | int = "INFO") -> dict[str, Any]:
    """A `logging.config.dictConfig` for uvicorn and the arena."""
    if isinstance(level, str):
        level = level.upper()
    formatter: dict[str, Any] = {"format": TEXT}
    if log_format == "json":
        formatter = {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "fmt": JSON_FIELDS,
            "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"},
        }
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"request_id": {"()": RequestIdFilter}},
        "formatters": {"arena": formatter},
        "handlers": {
            "arena": {
                "class": "logging.StreamHandler",
                "stream": "ext://sys.stderr",
                "formatter": "arena",
                "filters": ["request_id"],
            }
        },
        "loggers": {
            "uvicorn": {"handlers": ["arena"], "level": level, "propagate": False},
            "uvicorn.error": {"level": level},
            "uvicorn.access": {"level": level},
            **{name: {"level": "WARNING"} for name in QUIET},
        },
        "root": {"handlers": ["arena"], "level": level},
    }


def configure(log_format: str, level: str | int = "INFO") -> None:
    """Apply `log_config` to this process."""
    logging.config.dictConfig(log_config(log_format, level))
