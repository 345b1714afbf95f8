"""Run the whole test suite while two other processes keep both cores busy.

`make test-loaded` runs this. The load is one busy loop per core (what `stress-ng --cpu N`
does), started before pytest and stopped after it, at the same priority as the suite. A test
that races the machine (a wait too short, a timed assertion) fails here. Extra arguments go to
pytest. Prints one JSON line and exits with pytest's code.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BUSY = "while True: pass"


def main() -> int:
    cores = os.cpu_count() or 2
    load = [subprocess.Popen([sys.executable, "-c", BUSY]) for _ in range(cores)]
    try:
        started = time.monotonic()
        done = subprocess.run([sys.executable, "-m", "pytest", *sys.argv[1:]], cwd=ROOT,
                              check=False)
    finally:
        for proc in load:
            proc.kill()
            proc.wait()
    print(json.dumps({"busy_loops": cores, "exit_code": done.returncode,
                      "seconds": round(time.monotonic() - started, 1)}))
    return done.returncode


if __name__ == "__main__":
    sys.exit(main())
