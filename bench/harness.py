"""Timing, percentiles and throw-away databases for the benchmarks.

Every database is private to one run: a temporary SQLite file, or a fresh PostgreSQL schema
reached through `search_path` (the same trick as the integration tests), dropped afterwards.
Both are migrated with `storage.database.migrate` and opened with `make_engine`, exactly as
`bot.bootstrap.build` does, so the benchmarks see the engine settings production sees.
"""

from __future__ import annotations

import cProfile
import gc
import math
import os
import shutil
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url

from core.config import ModelPolicy, PlaybookConfig, parse_config
from core.domain import Version
from core.engine import PlayContext
from storage.artifacts import FileArtifactStore
from storage.database import make_engine, migrate
from storage.uow import uow_factory

DEFAULT_POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
MODEL = "bench"
METRIC = "score"
MIN_SCORE = 0.5

Json = dict[str, Any]

# Operation label -> profiler enabled around that operation's timed calls (bench.profile).
PROFILERS: dict[str, cProfile.Profile] = {}


def log(message: str) -> None:
    """Progress goes to stderr; stdout carries only the JSON document."""
    print(f"[bench] {message}", file=sys.stderr, flush=True)


def postgres_server_url() -> str:
    return os.environ.get("PLAYBOOK_BENCH_POSTGRES_URL") or os.environ.get(
        "PLAYBOOK_TEST_POSTGRES_URL", DEFAULT_POSTGRES_URL)


# --- timing ---------------------------------------------------------------------------------


def percentile(samples: list[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100): a value that was actually observed."""
    if not samples:
        raise ValueError("no samples")
    ordered = sorted(samples)
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return ordered[rank - 1]


def measure(label: str, operation: Callable[[int], object], n: int, *, warmup: int = 10,
            setup: Callable[[int], object] | None = None) -> list[float]:
    """Run `operation(i)` warmup + n times; return the last n durations in milliseconds.

    `setup(i)`, when given, runs before each call and is not timed. The garbage collector
    stays on (a server has it on) but starts each series from a clean slate. When
    PROFILERS holds `label`, that profiler runs around the timed calls (and skews them).
    """
    samples: list[float] = []
    profiler = PROFILERS.get(label)
    gc.collect()
    for i in range(warmup + n):
        if setup is not None:
            setup(i)
        timed = i >= warmup
        if profiler is not None and timed:
            profiler.enable()
        started = time.perf_counter_ns()
        operation(i)
        elapsed = time.perf_counter_ns() - started
        if profiler is not None and timed:
            profiler.disable()
        if timed:
            samples.append(elapsed / 1e6)
    return samples


def latency(samples: list[float], target_p99_ms: float | None, **extra: Any) -> Json:
    """The figures of one latency series; `meets_target` is null where the issue sets none."""
    p99 = percentile(samples, 99)
    return {
        "n": len(samples),
        "p50_ms": round(percentile(samples, 50), 3),
        "p99_ms": round(p99, 3),
        "mean_ms": round(statistics.fmean(samples), 3),
        "max_ms": round(max(samples), 3),
        "target": f"p99 < {target_p99_ms:g} ms" if target_p99_ms is not None else None,
        "meets_target": (p99 < target_p99_ms) if target_p99_ms is not None else None,
        **extra,
    }


# --- databases --------------------------------------------------------------------------------


@dataclass
class Database:
    backend: str  # sqlite | postgresql
    url: str
    engine: Engine
    workdir: Path  # artifact store and, for SQLite, the database file

    def context(self, config: PlaybookConfig | None = None) -> PlayContext:
        """The play context `bot.bootstrap.build` would wire, minus playbook.toml."""
        return PlayContext(config=config or bench_config(), uow=uow_factory(self.engine),
                           evaluator_for=constant_evaluators,
                           artifacts=FileArtifactStore(self.workdir / "artifacts"))

    def server_version(self) -> str:
        with self.engine.connect() as conn:
            if self.backend == "sqlite":
                return "SQLite " + str(conn.exec_driver_sql("select sqlite_version()").scalar())
            return str(conn.exec_driver_sql("show server_version").scalar())


@contextmanager
def database(backend: str) -> Iterator[Database]:
    """A migrated, empty registry on `backend` ("sqlite" or "postgres"), removed afterwards."""
    workdir = Path(tempfile.mkdtemp(prefix="playbook-bench-"))
    try:
        if backend == "sqlite":
            url = f"sqlite:///{workdir / 'playbook.db'}"
            with _migrated(url) as engine:
                yield Database("sqlite", url, engine, workdir)
        elif backend == "postgres":
            with _postgres_schema() as url, _migrated(url) as engine:
                yield Database("postgresql", url, engine, workdir)
        else:
            raise ValueError(f"unknown backend {backend!r}")
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


@contextmanager
def _migrated(url: str) -> Iterator[Engine]:
    engine = make_engine(url)
    try:
        migrate(engine)
        yield engine
    finally:
        engine.dispose()


@contextmanager
def _postgres_schema() -> Iterator[str]:
    server = postgres_server_url()
    schema = f"bench_{uuid.uuid4().hex[:12]}"
    admin = create_engine(server, connect_args={"connect_timeout": 5})
    try:
        with admin.begin() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
        try:
            url = make_url(server).update_query_dict({"options": f"-csearch_path={schema}"})
            yield url.render_as_string(hide_password=False)
        finally:
            with admin.begin() as conn:
                conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    finally:
        admin.dispose()


# --- the model under test -------------------------------------------------------------------


def bench_config() -> PlaybookConfig:
    """One low-stakes model, so a promotion moves production at once (no approvers)."""
    return parse_config({"models": {MODEL: {
        "stakes": "low", "metric": METRIC, "higher_is_better": True, "min_score": MIN_SCORE,
    }}})


class ConstantEvaluator:
    """An in-process eval suite that answers at once, so eval cost is not what is measured."""

    def evaluate(self, version: Version) -> dict[str, float]:
        return {METRIC: 0.99}

    def describe(self) -> str:
        return "bench: constant in-process evaluator"


_EVALUATOR = ConstantEvaluator()


def constant_evaluators(policy: ModelPolicy) -> ConstantEvaluator:
    return _EVALUATOR
