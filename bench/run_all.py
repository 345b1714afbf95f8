"""Run every benchmark and print one JSON document on stdout (progress goes to stderr).

    python -m bench.run_all [--backend sqlite|postgres|both] [--versions N]
                            [--attributions N] [--iterations N]
                            [--request-ids random|ordered]

Defaults are the issue's sizes: 10,000 versions (10,000+ production events) and 1,000,000
attributions. `--versions 1000 --attributions 50000 --iterations 50` is a quick check.
Exit status: 0 when every backend ran (targets missed or not), 1 when one failed to run.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
import traceback
from importlib.metadata import version as package_version

from bench import attributions, registry
from bench.harness import MODEL, Json, database, log
from core.plays.common import current


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.run_all", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    add_arguments(parser)
    args = parser.parse_args(argv)
    check_arguments(parser, args)
    backends = ["sqlite", "postgres"] if args.backend == "both" else [args.backend]
    document: Json = {
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
                    "sqlalchemy": package_version("sqlalchemy"),
                    "psycopg": package_version("psycopg"), "platform": platform.platform()},
        "params": {"versions": args.versions, "attributions": args.attributions,
                   "iterations": args.iterations, "request_ids": args.request_ids},
        "backends": {},
    }
    failed = False
    for backend in backends:
        started = time.perf_counter()
        try:
            document["backends"][backend] = run_backend(backend, args)
        except Exception as exc:  # report it in the document, go on with the next backend
            failed = True
            log(f"{backend}: failed\n{traceback.format_exc()}")
            document["backends"][backend] = {"error": f"{type(exc).__name__}: {exc}"}
        document["backends"][backend]["seconds"] = round(time.perf_counter() - started, 1)
    document["summary"] = summary(document["backends"])
    json.dump(document, sys.stdout, indent=2)
    sys.stdout.write("\n")
    return 1 if failed else 0


def add_arguments(parser: argparse.ArgumentParser, *, default_backend: str = "both") -> None:
    parser.add_argument("--backend", choices=("sqlite", "postgres", "both"),
                        default=default_backend)
    parser.add_argument("--versions", type=int, default=10_000,
                        help="versions seeded into the history (default 10,000)")
    parser.add_argument("--attributions", type=int, default=1_000_000,
                        help="attribution rows seeded before inserts and lookups "
                             "(default 1,000,000)")
    parser.add_argument("--iterations", type=int, default=400,
                        help="timed runs of each play; resolve and lookups run 5x and 10x "
                             "this, inserts iterations/4 batches of 1,000 (default 400)")
    parser.add_argument("--request-ids", choices=("random", "ordered"), default="random",
                        help="random (UUIDv4-like, the default and the worst case for the "
                             "index) or ordered (ULID/UUIDv7-like) request ids")


def check_arguments(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    if args.iterations < 4 or args.versions < args.iterations + 20 or args.attributions < 1:
        parser.error("need --iterations >= 4, --versions >= iterations + 20, "
                     "--attributions >= 1")


def run_backend(backend: str, args: argparse.Namespace) -> Json:
    with database(backend) as db:
        result: Json = {"server": db.server_version()}
        seed_registry, ops = registry.run(db, versions=args.versions,
                                          iterations=args.iterations)
        with db.context().uow() as uow:
            production, _ = current(uow, MODEL)
            newest = uow.versions.list(MODEL, limit=2)
        assert production is not None
        canary = next(v.id for v in newest if v.id != production.id)
        seed_attr, attr_ops = attributions.run(
            db, total=args.attributions, batches=max(4, args.iterations // 4),
            lookups=10 * args.iterations, version_ids=[production.id, canary],
            request_ids=args.request_ids)
        result["seed"] = {"registry": seed_registry, "attributions": seed_attr}
        result["operations"] = {**ops, **attr_ops}
        return result


def summary(backends: Json) -> Json:
    misses = [f"{name}.{op}" for name, result in backends.items()
              for op, figures in result.get("operations", {}).items()
              if figures.get("meets_target") is False]
    errors = [name for name, result in backends.items() if "error" in result]
    return {"all_targets_met": not misses and not errors, "misses": misses,
            "errors": errors}


if __name__ == "__main__":
    sys.exit(main())
