"""Run the whole test suite with the machine's clock and time zone set to hostile instants.

`make test-faketime` runs this. Each run shifts the clock of pytest and of every process it
starts (servers, the CLI, evaluators, Chromium) by libfaketime, so that "now" is the instant
named below, then lets it run on; the zone comes from TZ. A test that reads the wall clock,
the date or the machine's zone where it should not fails here. Extra arguments go to pytest.
Prints one JSON line per instant and exits non-zero if any run failed.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
from testkit import faketime  # noqa: E402

INSTANTS = [
    # (UTC instant, TZ of the machine, why it is hostile)
    ("2026-12-31 23:59:30", "Pacific/Kiritimati", "30 s before the year ends (UTC+14 is "
                                                  "already in the next one)"),
    ("2026-12-01 02:50:00", "America/New_York", "just before the 03:00 UTC GC slot, "
                                                "the day before in the machine's zone"),
    ("2026-03-29 00:59:30", "Europe/Berlin", "30 s before Berlin's clocks go forward "
                                             "(the tests configure Europe/Berlin)"),
]


def run_at(instant: str, zone: str, pytest_args: list[str]) -> dict[str, object]:
    target = datetime.strptime(instant, "%Y-%m-%d %H:%M:%S").replace(tzinfo=UTC).timestamp()
    env = faketime.environment(f"{round(target - time.time()):+d}")
    env["TZ"] = zone
    started = time.monotonic()
    done = subprocess.run([sys.executable, "-m", "pytest", *pytest_args], cwd=ROOT, env=env,
                          check=False)
    return {"instant_utc": instant, "tz": zone, "exit_code": done.returncode,
            "seconds": round(time.monotonic() - started, 1)}


def main() -> int:
    results = []
    for instant, zone, why in INSTANTS:
        print(f"== the suite at {instant} UTC, TZ={zone}: {why}", flush=True)
        results.append(run_at(instant, zone, sys.argv[1:]))
    for result in results:
        print(json.dumps(result))
    return 0 if all(r["exit_code"] == 0 for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
