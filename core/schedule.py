"""The `[schedule]` table of playbook.toml: when the bot posts by itself.

```toml
[schedule]
timezone = "Europe/Berlin"   # for the times below without a zone of their own (default UTC)
gc_at = "03:00"              # the daily GC cycle
rehearsal_check_at = "10:00" # the daily look for models due a rollback rehearsal
sweep_every_minutes = 5      # approval expiry and experiment warnings (divides 60)
catch_up_minutes = 180       # after downtime, a missed post this recent goes out once on start
claim_timeout_minutes = 10   # a post claimed by a replica that died is retried after this
attribution_retention_days = 400  # attributions older than this go, hourly (default 0: never)

[[schedule.digest]]
channel = "#ml-releases"
at = "09:00"
timezone = "America/New_York"  # optional
models = ["chat"]              # optional; default every model
```

Times are "HH:MM" or "HH:MM:SS" of the wall clock in the zone. Zones are IANA names, checked
against the system's zone database, so a typo fails at start, not at 9 a.m.
"""

from __future__ import annotations

import re
from datetime import time
from functools import cache
from typing import Annotated
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictInt,
    field_validator,
)

CLOCK = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)(?::([0-5]\d))?$")
DIVIDES_AN_HOUR = (1, 2, 3, 4, 5, 6, 10, 12, 15, 20, 30, 60)


def parse_clock(value: str) -> time:
    m = CLOCK.match(value.strip())
    if m is None:
        raise ValueError(f"{value!r} is not a time of day; write \"HH:MM\" or \"HH:MM:SS\" "
                         "(24-hour clock), e.g. \"09:00\"")
    return time(int(m[1]), int(m[2]), int(m[3] or 0))


@cache
def _zones() -> frozenset[str]:
    return frozenset(available_timezones() - {"localtime", "Factory"})


def check_zone(value: str) -> str:
    """An IANA name. Not "localtime": replicas on hosts set to different zones would post at
    different times, and each would claim its own."""
    if value not in _zones() and value != "UTC":
        raise ValueError(f"{value!r} is not a known time zone; use an IANA name such as "
                         "\"UTC\", \"Europe/Berlin\" or \"America/New_York\"")
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"{value!r} is not a known time zone") from None
    return value


def _check_clock(value: object) -> str:
    if not isinstance(value, str):  # TOML reads 09:00 unquoted as a time, not a string
        raise ValueError(f"{value!s} must be quoted: write \"{value!s}\"")
    parse_clock(value)
    return value


Clock = Annotated[str, BeforeValidator(_check_clock)]
Zone = Annotated[str, AfterValidator(check_zone)]


class DigestSchedule(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    channel: str = Field(min_length=1)
    at: Clock = "09:00"
    timezone: Zone | None = None
    models: tuple[str, ...] | None = Field(default=None, min_length=1)  # None: every model

    @property
    def job_id(self) -> str:
        return f"digest:{self.channel}"


class ScheduleConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    timezone: Zone = "UTC"
    gc_at: Clock = "03:00"
    rehearsal_check_at: Clock = "10:00"
    sweep_every_minutes: StrictInt = 5
    catch_up_minutes: int = Field(default=180, ge=0, le=24 * 60)
    claim_timeout_minutes: int = Field(default=10, ge=1)
    # Attributions (which version served each request) older than this are deleted, hourly;
    # 0 keeps them for ever. PostgreSQL drops whole weeks (storage/partitions.py).
    attribution_retention_days: int = Field(default=0, ge=0, le=36600)
    digest: tuple[DigestSchedule, ...] = ()

    @field_validator("sweep_every_minutes")
    @classmethod
    def _divides(cls, v: int) -> int:
        if v not in DIVIDES_AN_HOUR:
            raise ValueError(f"{v} does not divide an hour; use one of "
                             f"{', '.join(map(str, DIVIDES_AN_HOUR))}, so every replica "
                             "sweeps at the same wall-clock minutes")
        return v

    @field_validator("digest")
    @classmethod
    def _one_per_channel(cls, v: tuple[DigestSchedule, ...]) -> tuple[DigestSchedule, ...]:
        seen: set[str] = set()
        for d in v:
            key = d.channel.lstrip("#").lower()
            if key in seen:
                raise ValueError(f"two digests for channel {d.channel!r}; merge their models "
                                 "into one [[schedule.digest]]")
            seen.add(key)
        return v

    def zone_of(self, digest: DigestSchedule) -> str:
        return digest.timezone or self.timezone

    def digest_for(self, channel: str) -> DigestSchedule | None:
        """The digest scheduled for `channel` ("#name" and "name" are the same channel)."""
        want = channel.lstrip("#").lower()
        return next((d for d in self.digest if d.channel.lstrip("#").lower() == want), None)
