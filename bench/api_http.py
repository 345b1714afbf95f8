"""The HTTP API over a real socket: uvicorn in a subprocess, load from this process.

On this 2-core machine the server (one uvicorn process) and the load generator (a few httpx
threads here) share the cores, as the issue asks. Per backend:

- `resolve_200`: GET /v1/models/bench/tags/production, full answer every time;
- `resolve_304`: the same with If-None-Match, the way serving polls (304, no body);
- `attributions`: POST /v1/attributions, NDJSON batches of 1,000 new records;
- `audit`: GET /v1/audit/{request_id} over `--audit-rows` stored attributions (seeded in
  bulk by bench.seed, as bench.attributions does), from `--audit-threads` auditors.

Resolution is also driven by a lean raw-socket client (`*_lean_client`): on this machine
httpx itself tops out near 2,500 requests/s even against an empty FastAPI route, so those
series show what the server does when the load generator is not the bottleneck.

    python -m bench.api_http [--backend sqlite|postgres|both] [--seconds 5] [--threads 4]

Prints one JSON document on stdout; progress goes to stderr.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

from bench.harness import MODEL, Database, Json, database, log, percentile
from bench.seed import RequestIds, seed_attributions
from core.engine import new_id
from storage.uow import uow_factory

ROOT = Path(__file__).resolve().parents[1]
BATCH = 1000
TARGETS = {"resolve_rps": 3000, "resolve_p99_ms": 10.0, "attributions_per_s": 20_000,
           "audit_p99_ms": 20.0}
CONFIG = f"""
[models.{MODEL}]
stakes = "low"
metric = "score"
min_score = 0.5
"""


def asgi() -> Any:
    """The served app, built from the environment (uvicorn --factory calls this)."""
    from bot import bootstrap
    from bot.server import create_asgi
    from bot.settings import load_settings

    return create_asgi(bootstrap.build(load_settings(migrate=True)), with_slack=False)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def served(db: Database) -> Iterator[tuple[str, str]]:
    """(base URL, admin token) of a uvicorn subprocess serving `db`."""
    (db.workdir / "playbook.toml").write_text(CONFIG)
    token = _admin_token(db)
    port = _free_port()
    env = os.environ | {"PLAYBOOK_CONFIG": str(db.workdir / "playbook.toml"),
                        "PLAYBOOK_HOME": str(db.workdir), "DATABASE_URL": db.url,
                        "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "--factory", "bench.api_http:asgi", "--host",
         "127.0.0.1", "--port", str(port), "--log-level", "warning", "--no-access-log"],
        env=env, cwd=ROOT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(url + "/healthz").status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline or proc.poll() is not None:
                raise RuntimeError("the server did not start")
            time.sleep(0.1)
        yield url, token
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def _admin_token(db: Database) -> str:
    from bot.shared.tokens import create_token
    from core.engine import SystemClock

    _, secret = create_token(uow_factory(db.engine), name="bench", scopes=["admin"],
                             created_by="bench", now=SystemClock().now(), make_id=new_id)
    return secret


def load(url: str, token: str, threads: int, seconds: float,
         request: Callable[[httpx.Client, int], int]) -> tuple[int, list[float], float]:
    """Run `request(client, i)` from `threads` threads for `seconds`; every call answers its
    item count. Returns (items, latencies in ms, wall seconds)."""
    latencies: list[list[float]] = [[] for _ in range(threads)]
    items = [0] * threads
    stop = time.monotonic() + seconds
    start_line = threading.Barrier(threads + 1)

    def worker(k: int) -> None:
        with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {token}"},
                          timeout=60) as client:
            request(client, -1)  # warm the connection
            start_line.wait()
            i = 0
            while time.monotonic() < stop:
                began = time.perf_counter()
                items[k] += request(client, k * 1_000_000 + i)
                latencies[k].append((time.perf_counter() - began) * 1000)
                i += 1

    pool = [threading.Thread(target=worker, args=(k,)) for k in range(threads)]
    for t in pool:
        t.start()
    start_line.wait()
    began = time.monotonic()
    for t in pool:
        t.join()
    return sum(items), [x for series in latencies for x in series], time.monotonic() - began


def lean_get(url: str, path: str, headers: dict[str, str], threads: int,
             seconds: float) -> tuple[int, list[float], float]:
    """GET `path` over raw keep-alive sockets: a load generator ~3x cheaper per request than
    httpx, to show what the server does when the client is not the bottleneck."""
    host, port = url.removeprefix("http://").split(":")
    request = (f"GET {path} HTTP/1.1\r\nHost: {host}\r\n"
               + "".join(f"{k}: {v}\r\n" for k, v in headers.items()) + "\r\n").encode()
    latencies: list[list[float]] = [[] for _ in range(threads)]
    stop = time.monotonic() + seconds
    start_line = threading.Barrier(threads + 1)

    def worker(k: int) -> None:
        with socket.create_connection((host, int(port))) as sock:
            buffer = b""
            start_line.wait()
            while time.monotonic() < stop:
                began = time.perf_counter()
                sock.sendall(request)
                while b"\r\n\r\n" not in buffer:
                    buffer += sock.recv(65536)
                head, _, buffer = buffer.partition(b"\r\n\r\n")
                assert head.startswith((b"HTTP/1.1 200", b"HTTP/1.1 304")), head[:40]
                length = next((int(line.split(b":")[1]) for line in head.split(b"\r\n")
                               if line.lower().startswith(b"content-length:")), 0)
                while len(buffer) < length:
                    buffer += sock.recv(65536)
                buffer = buffer[length:]
                latencies[k].append((time.perf_counter() - began) * 1000)

    pool = [threading.Thread(target=worker, args=(k,)) for k in range(threads)]
    for t in pool:
        t.start()
    start_line.wait()
    began = time.monotonic()
    for t in pool:
        t.join()
    samples = [x for series in latencies for x in series]
    return len(samples), samples, time.monotonic() - began


def figures(n_items: int, samples: list[float], wall: float, per: str,
            target: tuple[str, float] | None = None) -> Json:
    rate = n_items / wall
    out: Json = {"requests": len(samples), per: round(rate),
                 "p50_ms": round(percentile(samples, 50), 2),
                 "p99_ms": round(percentile(samples, 99), 2)}
    if target is not None:
        out["target"], out["meets_target"] = target[0], rate >= target[1]
    return out


def run_backend(backend: str, *, threads: int, seconds: float, audit_rows: int,
                audit_threads: int) -> Json:
    with database(backend) as db, served(db) as (url, token):
        log(f"{db.backend}: serving at {url}")
        client = httpx.Client(base_url=url, headers={"Authorization": f"Bearer {token}"})
        versions: list[str] = []
        for i, prompt in enumerate(("first", "second")):
            body: dict[str, Any] = {"components": {"prompt": prompt}, "owner": "bench",
                                    "reason": "bench", "scores": {"score": 0.9 + i / 100}}
            body |= {"parent": versions[-1]} if versions else {"root": True}
            versions.append(client.post(f"/v1/models/{MODEL}/versions", json=body)
                            .json()["id"])
        client.post(f"/v1/models/{MODEL}/promote", json={"version": versions[0]})
        tag = f"/v1/models/{MODEL}/tags/production"
        etag = client.get(tag).headers["etag"]
        out: Json = {"server": db.server_version(), "threads": threads}

        def plain(c: httpx.Client, i: int) -> int:
            c.get(tag).raise_for_status()
            return 1

        def conditional(c: httpx.Client, i: int) -> int:
            assert c.get(tag, headers={"If-None-Match": etag}).status_code == 304
            return 1

        target = ("requests_per_s >= 3000 and p99 < 10 ms", TARGETS["resolve_rps"])
        auth = {"Authorization": f"Bearer {token}"}
        series: list[tuple[str, Callable[[], tuple[int, list[float], float]]]] = [
            ("resolve_200", lambda: load(url, token, threads, seconds, plain)),
            ("resolve_200_lean_client", lambda: lean_get(url, tag, auth, threads, seconds)),
            ("resolve_304", lambda: load(url, token, threads, seconds, conditional)),
            ("resolve_304_lean_client", lambda: lean_get(
                url, tag, auth | {"If-None-Match": etag}, threads, seconds))]
        for name, run in series:
            log(f"{db.backend}: {name} for {seconds:g} s")
            got = figures(*run(), "requests_per_s", target)
            got["meets_target"] = got["meets_target"] and got["p99_ms"] < 10.0
            out[name] = got

        def batch(c: httpx.Client, i: int) -> int:
            lines = "".join(json.dumps({
                "request_id": f"{uuid.uuid4().hex}", "model": MODEL, "version": versions[0],
                "latency_ms": 20 + j % 50, "error": j % 97 == 0}) + "\n" for j in range(BATCH))
            c.post("/v1/attributions", content=lines,
                   headers={"Content-Type": "application/x-ndjson"}).raise_for_status()
            return BATCH

        log(f"{db.backend}: attribution batches of {BATCH} for {seconds:g} s")
        n, samples, wall = load(url, token, max(2, threads // 2), seconds, batch)
        out["attributions"] = figures(n, samples, wall, "records_per_s",
                                      (">= 20,000 records/s", TARGETS["attributions_per_s"]))

        if audit_rows:
            log(f"{db.backend}: seeding {audit_rows:,} attributions for the audit lookups")
            seeded = seed_attributions(db, audit_rows, versions, sample=2000,
                                       ids=RequestIds("random"))
            ids = seeded.sample

            def lookup(c: httpx.Client, i: int) -> int:
                c.get(f"/v1/audit/{ids[i % len(ids)]}").raise_for_status()
                return 1

            log(f"{db.backend}: audit lookups for {seconds:g} s")
            got = figures(*load(url, token, audit_threads, seconds, lookup), "requests_per_s")
            got.update(stored=audit_rows + n, threads=audit_threads, target="p99 < 20 ms",
                       meets_target=got["p99_ms"] < TARGETS["audit_p99_ms"])
            out["audit"] = got
        client.close()
        return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.api_http", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--backend", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("--seconds", type=float, default=5.0, help="per series")
    parser.add_argument("--threads", type=int, default=4, help="load generator threads")
    parser.add_argument("--audit-rows", type=int, default=1_000_000,
                        help="attributions stored before the audit lookups (0: skip)")
    parser.add_argument("--audit-threads", type=int, default=1,
                        help="auditors asking at once (each audit is a recorded play run, "
                             "so a write)")
    args = parser.parse_args(argv)
    backends = ["sqlite", "postgres"] if args.backend == "both" else [args.backend]
    report = {"cpus": os.cpu_count(), "python": sys.version.split()[0],
              "backends": {b: run_backend(b, threads=args.threads, seconds=args.seconds,
                                          audit_rows=args.audit_rows,
                                          audit_threads=args.audit_threads)
                           for b in backends}}
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
