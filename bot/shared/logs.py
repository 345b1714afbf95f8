"""Logs: JSON lines when stderr is not a terminal (a container, a service manager), human
lines on a terminal; `PLAYBOOK_LOG_FORMAT` (json | text) decides otherwise, the level comes
from `PLAYBOOK_LOG_LEVEL` (WARNING by default). Every line carries the id of the request it
belongs to (an HTTP request's `X-Request-ID`, a Slack request's trigger or event id), and
uvicorn's own lines come out the same way.
"""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime
from typing import IO, Any

from core.effects import REQUEST_ID

LOGGERS = ("playbook", "bot", "uvicorn", "uvicorn.error", "uvicorn.access")


class WithRequestId(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = REQUEST_ID.get()
        return True


class JsonLines(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname, "logger": record.name, "message": record.getMessage(),
            "request_id": getattr(record, "request_id", None)}
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False)


class HumanLines(logging.Formatter):
    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s%(rid)s: %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        rid = getattr(record, "request_id", None)
        record.rid = f" [{rid}]" if rid else ""
        return super().format(record)


def configure(level: str | None, fmt: str | None, stream: IO[str] | None = None) -> None:
    out = stream or sys.stderr
    as_json = fmt == "json" or (fmt is None and not out.isatty())
    handler = logging.StreamHandler(out)
    handler.setFormatter(JsonLines() if as_json else HumanLines())
    handler.addFilter(WithRequestId())
    for name in LOGGERS:
        logger = logging.getLogger(name)
        logger.handlers = [handler]
        logger.propagate = False
        if name.startswith("uvicorn"):
            logger.setLevel("INFO" if name != "uvicorn.access" else (level or "WARNING"))
        else:
            logger.setLevel(level or "WARNING")
