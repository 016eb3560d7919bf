"""Log output for ``kb serve``: plain text (default) or one JSON object per line (``KB_LOG_FORMAT=json``).

JSON lines are what log shippers (Loki, Fluent Bit, CloudWatch) parse without
rules. Access lines carry the client, method, path and status as fields.
Nothing here logs request bodies, cookies or headers, so passwords, session
ids and tokens never reach the log.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from typing import Any


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.name == "uvicorn.access" and isinstance(record.args, tuple) and len(record.args) == 5:
            client, method, path, _version, status = record.args
            entry.update(client=client, method=method, path=path, status=status)
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


def log_config(fmt: str) -> dict[str, Any]:
    """A ``logging.config.dictConfig`` for uvicorn and the app's own loggers."""
    formatter = (
        {"()": JsonFormatter} if fmt == "json" else {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}
    )
    handler = {"class": "logging.StreamHandler", "formatter": "main", "stream": "ext://sys.stderr"}
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"main": formatter},
        "handlers": {"main": handler},
        "loggers": {
            "uvicorn": {"handlers": ["main"], "level": "INFO", "propagate": False},
            "uvicorn.access": {"handlers": ["main"], "level": "INFO", "propagate": False},
            "uvicorn.error": {"handlers": ["main"], "level": "INFO", "propagate": False},
        },
        "root": {"handlers": ["main"], "level": "INFO"},
    }
