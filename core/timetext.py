"""How a time reads in a message: to the minute or second, in UTC, and saying so
("2026-12-06 16:04 UTC"). Messages never show a bare ISO timestamp with microseconds, or a
time without its zone; Slack messages use `<!date>` so each reader sees their own zone."""

from __future__ import annotations

from datetime import UTC, datetime


def stamp(value: datetime, *, seconds: bool = False) -> str:
    """A stored time (aware, or naive meaning UTC) as a reader sees it."""
    utc = value.astimezone(UTC) if value.tzinfo is not None else value
    return utc.strftime("%Y-%m-%d %H:%M:%S UTC" if seconds else "%Y-%m-%d %H:%M UTC")
