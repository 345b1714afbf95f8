"""Profile one benchmarked operation with cProfile (only its timed calls).

    python -m bench.profile rollback [--backend sqlite|postgres] [run_all's size options]
        [--sort cumulative|tottime] [--limit 40]

It runs the same flow as bench.run_all on one backend (so the seeded state is the same),
then prints the figures of that operation and the profile, heaviest first. Timings taken
under the profiler are inflated; use run_all for the numbers, this for where time goes.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import pstats
import sys

from bench import run_all
from bench.harness import PROFILERS

OPERATIONS = ("register", "promote", "resolve", "rollback", "attribution_insert_play",
              "attribution_insert_repository", "attribution_lookup")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.profile", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("operation", choices=OPERATIONS)
    run_all.add_arguments(parser, default_backend="sqlite")
    parser.add_argument("--sort", choices=("cumulative", "tottime"), default="cumulative")
    parser.add_argument("--limit", type=int, default=40)
    args = parser.parse_args(argv)
    run_all.check_arguments(parser, args)
    if args.backend == "both":
        parser.error("profile one backend at a time")
    profiler = PROFILERS[args.operation] = cProfile.Profile()
    result = run_all.run_backend(args.backend, args)
    print(json.dumps(result["operations"][args.operation], indent=2))
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats(args.sort).print_stats(args.limit)
    print(out.getvalue())
    return 0


if __name__ == "__main__":
    sys.exit(main())
