"""playbook-client and route streams, measured against a real `playbook serve` process.

    python -m bench.client_follow [--clients 100] [--streams 1000] [--rollbacks 5]

Prints one JSON document:
- `resolve_from_memory_us`: `Resolver.version(key)` (p50/p99; aim under 5 us);
- `serve_block_overhead_us`: a `with pb.serve(request_id)` block around nothing: choosing the
  version, timing it and queueing its attribution (p50/p99);
- `rollback_to_clients_s`: from a rollback over HTTP until each of `--clients` streaming
  resolvers has the restored version (p50/p99/max over every client and rollback; aim: p99
  under 1 s), and the same for a rollback by the CLI (another process: the server sees it
  within PLAYBOOK_STREAM_POLL_S, 0.5 s by default), counted from the CLI's return;
- `idle_streams`: the server's resident memory before and with `--streams` open streams
  (aim: 1,000 in under 100 MB).
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import httpx
from playbook_client import Playbook, Resolver

from bench.harness import Json, log

ROOT = str(Path(__file__).resolve().parent.parent)


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


class Server:
    def __init__(self, home: Path, port: int) -> None:
        self.env = {"PATH": os.environ["PATH"], "PYTHONPATH": ROOT,
                    "PLAYBOOK_HOME": str(home), "PLAYBOOK_CONFIG": str(home / "playbook.toml"),
                    "PLAYBOOK_PORT": str(port), "PLAYBOOK_SERVE_MODE": "http-only",
                    "PLAYBOOK_USER": "bench"}
        self.url = f"http://127.0.0.1:{port}"
        self.home = home
        self.proc: subprocess.Popen[bytes] | None = None

    def cli(self, *argv: str) -> Any:
        done = subprocess.run([sys.executable, "-m", "bot.cli.main", "--json", *argv],
                              env=self.env, cwd=self.home, capture_output=True, check=True)
        return json.loads(done.stdout)

    def start(self) -> None:
        self.proc = subprocess.Popen([sys.executable, "-m", "bot.cli.main", "serve"],
                                     env=self.env, cwd=self.home, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL)
        for _ in range(600):
            try:
                httpx.get(self.url + "/livez")
                return
            except httpx.TransportError:
                time.sleep(0.1)
        raise RuntimeError("playbook serve did not start")

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.terminate()
            self.proc.wait(timeout=60)


def alias_of(mlflow: str, name: str) -> str | None:
    answer = httpx.get(f"{mlflow}/api/2.0/mlflow/registered-models/alias",
                       params={"name": name, "alias": "production"})
    return answer.json()["model_version"]["version"] if answer.is_success else None


def follow(server: Server, token: str, clients: int, rollbacks: int,
           versions: tuple[str, str], mirror: tuple[str, str] | None = None) -> Json:
    seen: dict[int, float] = {}
    wanted = {"v": versions[1]}
    lock = threading.Condition()

    def watcher(i: int) -> Any:
        def on_change(route: Any) -> None:
            if route.version_for() == wanted["v"]:
                with lock:
                    seen.setdefault(i, time.perf_counter())
                    lock.notify_all()
        return on_change

    resolvers = [Resolver(server.url, token, "chat", on_change=watcher(i))
                 for i in range(clients)]
    secret = server.cli("token", "create", "--name", "ops", "--scope", "admin")["token"]
    admin = httpx.Client(base_url=server.url, timeout=30,
                         headers={"Authorization": f"Bearer {secret}"})
    result: Json = {}
    try:
        for r in resolvers:
            r.wait_ready(60)
        to_alias: list[float] = []
        for how in ("http", "cli"):
            delays: list[float] = []
            after_return: list[float] = []
            for n in range(rollbacks):
                target, other = versions if n % 2 == 0 else (versions[1], versions[0])
                # put production on `other` first, everyone following it
                admin.post("/v1/models/chat/promote", json={"version": other})
                deadline = time.monotonic() + 60
                while not all(r.version() == other for r in resolvers) \
                        and time.monotonic() < deadline:
                    time.sleep(0.01)
                with lock:
                    seen.clear()
                    wanted["v"] = target
                start = time.perf_counter()
                if how == "http":
                    admin.post("/v1/models/chat/rollback", json={"to": target})
                else:  # the move commits somewhere inside the CLI's run
                    server.cli("rollback", "chat", "--to", f"chat@{target}")
                returned = time.perf_counter()
                if mirror is not None and how == "http":  # MLflow's alias: versions 1 and 2
                    number = str(versions.index(target) + 1)
                    while alias_of(*mirror) != number and time.perf_counter() - start < 60:
                        time.sleep(0.005)
                    to_alias.append(time.perf_counter() - start)
                with lock:
                    lock.wait_for(lambda: len(seen) == clients, 60)
                delays += [t - start for t in seen.values()]
                after_return += [max(t - returned, 0.0) for t in seen.values()]
            result[how] = {"p50": round(pct(delays, 0.5), 3), "p99": round(pct(delays, 0.99), 3),
                           "max": round(max(delays), 3), "samples": len(delays)}
            if how == "cli":  # from its start counts the CLI's own start-up (~0.5 s)
                result[how]["after_the_cli_returned_p99"] = round(pct(after_return, 0.99), 3)
        if to_alias:
            result["mlflow_alias_moved"] = {"p50": round(pct(to_alias, 0.5), 3),
                                            "max": round(max(to_alias), 3),
                                            "samples": len(to_alias)}
    finally:
        for r in resolvers:
            r.close()
        admin.close()
    return result


def idle_streams(server: Server, token: str, streams: int) -> Json:
    assert server.proc is not None
    before = rss_mb(server.proc.pid)
    port = int(server.url.rsplit(":", 1)[1])
    request = (f"GET /v1/models/chat/route/stream HTTP/1.1\r\nHost: x\r\n"
               f"Authorization: Bearer {token}\r\nAccept: text/event-stream\r\n\r\n").encode()
    socks = []
    try:
        for _ in range(streams):
            s = socket.create_connection(("127.0.0.1", port))
            s.sendall(request)
            socks.append(s)
        for s in socks:  # each has its first event
            s.settimeout(60)
            data = b""
            while b"event: route" not in data:
                data += s.recv(65536)
        with_streams = rss_mb(server.proc.pid)
    finally:
        for s in socks:
            s.close()
    return {"streams": streams, "rss_before_mb": round(before, 1),
            "rss_with_streams_mb": round(with_streams, 1),
            "added_mb": round(with_streams - before, 1)}


def micro(server: Server, token: str) -> Json:
    pb = Playbook(server.url, token, model="chat", attributor={"max_queue": 1_000_000})
    pb.resolver.wait_ready(60)
    times = []
    for i in range(200_000):
        key = str(i)
        t = time.perf_counter_ns()
        pb.resolver.version(key)
        times.append((time.perf_counter_ns() - t) / 1000)
    blocks = []
    for i in range(50_000):
        t = time.perf_counter_ns()
        with pb.serve(f"req-{i}"):
            pass
        blocks.append((time.perf_counter_ns() - t) / 1000)
    pb.close()
    return {"resolve_from_memory_us": {"p50": round(statistics.median(times), 2),
                                       "p99": round(pct(times, 0.99), 2)},
            "serve_block_overhead_us": {"p50": round(statistics.median(blocks), 2),
                                        "p99": round(pct(blocks, 0.99), 2)},
            "attributions": pb.attributor.stats()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.client_follow", description=__doc__)
    parser.add_argument("--clients", type=int, default=100)
    parser.add_argument("--streams", type=int, default=1000)
    parser.add_argument("--rollbacks", type=int, default=5)
    parser.add_argument("--port", type=int, default=18090)
    parser.add_argument("--mlflow", metavar="URL",
                        help="a running MLflow tracking server: also time the rollback until "
                             "its production alias moved (a registered model is created)")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp)
        config = '[models.chat]\nmetric = "score"\n'
        mirror = None
        if args.mlflow:
            name = f"bench-{os.getpid()}-{int(time.time())}"
            api = f"{args.mlflow}/api/2.0/mlflow"
            httpx.post(f"{api}/registered-models/create", json={"name": name}).raise_for_status()
            for i in (1, 2):
                httpx.post(f"{api}/model-versions/create",
                           json={"name": name, "source": f"s3://bench/{i}"}).raise_for_status()
            config += f'mirror = {{ mlflow = "{args.mlflow}", name = "{name}" }}\n'
            mirror = (args.mlflow, name)
        (home / "playbook.toml").write_text(config)
        server = Server(home, args.port)
        common = ("--owner", "ana", "--reason", "r", "--score", "score=0.9")
        pin = (lambda n: ("--mlflow-version", str(n))) if mirror else (lambda n: ())
        v1 = server.cli("register", "chat", "--root", "--prompt", "one", *common,
                        *pin(1))["id"]
        v2 = server.cli("register", "chat", "--parent", f"chat@{v1}", "--prompt", "two",
                        *common, *pin(2))["id"]
        server.cli("promote", "chat", f"chat@{v1}")
        server.cli("promote", "chat", f"chat@{v2}")
        token = server.cli("token", "create", "--name", "svc", "--scope", "resolve",
                           "--scope", "attribute")["token"]
        server.start()
        try:
            log("resolve and serve-block overhead")
            result = micro(server, token)
            log(f"{args.clients} streaming clients following rollbacks")
            result["rollback_to_clients_s"] = follow(server, token, args.clients,
                                                     args.rollbacks, (v1, v2), mirror)
            log(f"{args.streams} idle streams")
            result["idle_streams"] = idle_streams(server, token, args.streams)
        finally:
            server.stop()
    result["aims"] = {"resolve_p50_us": 5, "clients_switched_p99_s": 1.0,
                      "idle_streams_1000_mb": 100}
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
