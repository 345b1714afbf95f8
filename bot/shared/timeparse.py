"""Times on the command line: ISO 8601 (with a zone, or UTC assumed), `now`, or `2h ago`."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from core.errors import InvalidInput

RELATIVE = re.compile(r"^(\d{1,9}(?:\.\d{1,6})?)\s*([smhd])(?:\s+ago)?$", re.ASCII)
UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}


def parse_time(text: str, field: str, now: datetime) -> datetime:
    value = text.strip().lower()
    if value == "now":
        return now
    m = RELATIVE.match(value)
    if m:
        try:
            return now - timedelta(**{UNITS[m.group(2)]: float(m.group(1))})
        except OverflowError as exc:
            raise InvalidInput(field, f"{text!r} is too far back",
                               hint="give a time after 1970, e.g. `2h ago` or "
                                    "2026-11-26T09:00:00Z") from exc
    try:
        parsed = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError as exc:
        raise InvalidInput(field, f"{text!r} is not a time",
                           hint="use ISO 8601 like 2026-11-26T09:00:00Z, `now`, or `2h ago`") \
            from exc
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
