"""Running a process at another instant, with libfaketime.

libfaketime comes from PyPI's `libfaketime` package (a dev dependency), not from Debian's
`faketime` 0.9.10: with that one Python hangs on any lock or Event with a timeout (its
monotonic clock is faked, and glibc's sem_clockwait is not intercepted), or, with the monotonic
clock left real, `time.sleep` fails with EINVAL. The build PyPI ships leaves the monotonic clock
real and sleeps correctly, so only the calendar moves: exactly what a test of "what time is it"
needs.
"""

from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo


def library() -> Path:
    import libfaketime

    found = Path(libfaketime.__file__).parent / "vendor" / "libfaketime" / "src" / \
        "libfaketime.so.1"
    if not found.exists():
        raise FileNotFoundError(f"the libfaketime package has no {found}")
    return found


def environment(spec: str, base: dict[str, str] | None = None) -> dict[str, str]:
    """`base` (the current environment by default) with the clock set by `spec`:
    "@2026-12-31 23:59:30" starts each process at that local time (see `starting_at`),
    "+3600" shifts the real clock by an hour."""
    env = {k: v for k, v in (os.environ if base is None else base).items()
           if not k.startswith("FAKETIME") and k != "DONT_FAKE_MONOTONIC"}
    preload = [str(library())]
    preload += [p for p in env.get("LD_PRELOAD", "").split(":") if p and "faketime" not in p]
    # libfaketime reads its variables again each time its cache expires (every 10 s), from
    # whichever thread asks the time; glibc's getenv is not safe against a setenv in another
    # thread (a test's monkeypatch.setenv), and the race crashed a worker with SIGSEGV. The
    # clock spec never changes during a run, so read it once.
    env.update({"LD_PRELOAD": ":".join(preload), "FAKETIME": spec,
                "FAKETIME_DONT_FAKE_MONOTONIC": "1", "DONT_FAKE_MONOTONIC": "1",
                "FAKETIME_CACHE_DURATION": str(10**9)})
    return env


def starting_at(when: datetime, env: dict[str, str]) -> str:
    """The "@" spec of instant `when` for a process with environment `env`: libfaketime reads
    it as a local time (mktime, in the process's TZ), so it is written in that zone. (An
    instant in the hour a DST change repeats cannot be written this way; ours are not.)"""
    zone = env.get("TZ")
    local = when.astimezone(ZoneInfo(zone.removeprefix(":"))) if zone else when.astimezone()
    return "@" + local.strftime("%Y-%m-%d %H:%M:%S")
