"""How long the `playbook` command takes to start: `--help` (parsing only; the target is under
0.3 s) and `versions` on an empty embedded registry (the whole of Playbook loaded).

    python -m bench.cli_startup [--runs N]

Prints one JSON document: per command, the median and the slowest wall time in seconds.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.harness import Json

PLAYBOOK = [sys.executable, "-m", "bot.cli.main"]


def timed(argv: list[str], runs: int, cwd: Path) -> Json:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run([*PLAYBOOK, *argv], cwd=cwd, check=True, capture_output=True)
        times.append(time.perf_counter() - start)
    return {"median_s": round(statistics.median(times), 3), "max_s": round(max(times), 3),
            "runs": runs}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.cli_startup", description=__doc__)
    parser.add_argument("--runs", type=int, default=10)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp)
        (home / "playbook.toml").write_text("[models.chat]\n")
        result: Json = {"playbook --help": timed(["--help"], args.runs, home),
                  "playbook versions chat": timed(["versions", "chat"], args.runs, home)}
    result["target_help_s"] = 0.3
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
