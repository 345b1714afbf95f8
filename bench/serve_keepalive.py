"""Keep-alive latency of each way of serving, to see that none hits the TCP_NODELAY stall
(Kludex/uvicorn#3149: with Nagle's algorithm on, every keep-alive request after the first
waits ~40 ms for the client's delayed ACK).

    python -m bench.serve_keepalive [--requests N]

Starts each server as a real process on 127.0.0.1 (http-only, the embedded SQLite in a temp
dir), sends N sequential GET /livez on one keep-alive connection, and prints one JSON document:
per way, the median and 90th percentile in ms. `gunicorn, plain uvicorn-worker` is the control:
gunicorn's listeners without Playbook's worker class, which is where the stall lives.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

from bench.harness import Json, log

ROOT = str(Path(__file__).resolve().parent.parent)
BIN = Path(sys.executable).parent


def ways(port: int) -> dict[str, list[str]]:
    gunicorn = [str(BIN / "gunicorn"), "-w", "2", "-b", f"127.0.0.1:{port}",
                "bot.server:from_env()"]
    return {
        "serve (1 process)": [sys.executable, "-m", "bot.cli.main", "serve"],
        "serve --workers 2": [sys.executable, "-m", "bot.cli.main", "serve", "--workers", "2"],
        "gunicorn -k bot.workers.UvicornWorker": [*gunicorn[:1], "-k",
                                                  "bot.workers.UvicornWorker", *gunicorn[1:]],
        "gunicorn, plain uvicorn-worker": [*gunicorn[:1], "-k", "uvicorn_worker.UvicornWorker",
                                           *gunicorn[1:]],
    }


def measure(command: list[str], port: int, requests: int, home: Path) -> Json:
    env = {"PATH": os.environ["PATH"], "PYTHONPATH": ROOT, "PLAYBOOK_HOME": str(home),
           "PLAYBOOK_CONFIG": str(home / "playbook.toml"), "PLAYBOOK_PORT": str(port),
           "PLAYBOOK_SERVE_MODE": "http-only"}
    proc = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}/livez"
    try:
        for _ in range(600):  # the server's start: up to a minute
            try:
                httpx.get(url)
                break
            except httpx.TransportError:
                time.sleep(0.1)
        times = []
        with httpx.Client() as client:  # one keep-alive connection
            for _ in range(requests):
                start = time.perf_counter()
                client.get(url).raise_for_status()
                times.append((time.perf_counter() - start) * 1000)
        times = times[1:]  # the first request opens the connection
        return {"median_ms": round(statistics.median(times), 2),
                "p90_ms": round(statistics.quantiles(times, n=10)[-1], 2),
                "requests": len(times)}
    finally:
        proc.terminate()
        proc.wait(timeout=60)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.serve_keepalive",
                                     description=__doc__)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--port", type=int, default=18080)
    args = parser.parse_args(argv)
    result: Json = {}
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp)
        (home / "playbook.toml").write_text("[models.chat]\n")
        for name, command in ways(args.port).items():
            log(f"measuring {name}")
            result[name] = measure(command, args.port, args.requests, home)
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
