"""The ways a platform team runs the server, each a real process configured by environment
variables only: `playbook serve --workers 2`, `uvicorn --factory bot.server:from_env` and
gunicorn with Playbook's uvicorn worker class. Each serves the probes and the API, its worker
processes all start (uvicorn says so once per process), and it stops cleanly on SIGTERM."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import threading
from pathlib import Path

import httpx
import pytest
from testkit.ports import free_port
from testkit.serving import wait_live
from testkit.waiting import until

import bot
from bot.workers import as_tcp

ROOT = str(Path(bot.__file__).resolve().parent.parent)
BIN = Path(sys.executable).parent


def commands(port: int) -> dict[str, list[str]]:
    return {
        "serve --workers 2": [sys.executable, "-m", "bot.cli.main", "serve", "--workers", "2"],
        "uvicorn --factory": [str(BIN / "uvicorn"), "--factory", "bot.server:from_env",
                              "--port", str(port)],
        "gunicorn": [str(BIN / "gunicorn"), "-k", "bot.workers.UvicornWorker", "-w", "2",
                     "-b", f"127.0.0.1:{port}", "bot.server:from_env()"],
    }


def served_by_env(tmp_path: Path, port: int, **extra: str) -> tuple[dict[str, str], str]:
    """The environment of an API-only server on `port` over tmp_path's playbook.toml, and a
    register token made with the CLI."""
    env = {"PATH": os.environ["PATH"], "PYTHONPATH": ROOT,
           "PLAYBOOK_CONFIG": str(tmp_path / "playbook.toml"),
           "PLAYBOOK_HOME": str(tmp_path / "home"), "PLAYBOOK_USER": "ops",
           "PLAYBOOK_LOG_LEVEL": "INFO", "PLAYBOOK_PORT": str(port),
           "PLAYBOOK_SERVE_MODE": "http-only", **extra}
    made = subprocess.run([sys.executable, "-m", "bot.cli.main", "--json", "token", "create",
                           "--name", "ci", "--scope", "register"], env=env, cwd=tmp_path,
                          capture_output=True, text=True, timeout=120, check=True)
    secret: str = json.loads(made.stdout)["token"]
    return env, secret


@pytest.mark.parametrize("how", ["serve --workers 2", "uvicorn --factory", "gunicorn"])
def test_each_way_of_serving_answers_and_stops_cleanly(tmp_path: Path, how: str) -> None:
    (tmp_path / "playbook.toml").write_text('[models.chat]\nmetric = "score"\n')
    port = free_port()
    env, secret = served_by_env(tmp_path, port)
    log = tmp_path / "serve.log"
    with log.open("w") as err:
        proc = subprocess.Popen(commands(port)[how], env=env, cwd=tmp_path, stderr=err,
                                stdout=err)
    url = f"http://127.0.0.1:{port}"
    workers = 1 if how == "uvicorn --factory" else 2
    try:
        wait_live(proc, url, log, how)
        until(lambda: log.read_text().count("Application startup complete") >= workers,
              f"{workers} worker(s) to start")
        assert httpx.get(f"{url}/readyz").json()["status"] == "ok"
        body = {"components": {"prompt": "hello"}, "owner": "ana", "reason": "r", "root": True,
                "scores": {"score": 0.5}}
        with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {secret}"}) as c:
            assert c.post("/v1/models/chat/versions", json=body).status_code == 201
    finally:
        proc.send_signal(signal.SIGTERM)
        code = proc.wait(timeout=60)
    # uvicorn re-raises the SIGTERM it handled once it has shut down, so its exit may be -15
    assert code in (0, -signal.SIGTERM), log.read_text()
    assert log.read_text().count("Application shutdown complete") == workers, log.read_text()


def test_the_gunicorn_worker_reopens_listeners_as_tcp() -> None:
    """gunicorn's listeners do not name their protocol, so asyncio would leave Nagle on for
    every connection (Kludex/uvicorn#3149); the worker hands uvicorn TCP ones."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)  # proto 0, as gunicorn's
    try:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        assert listener.proto == 0
        tcp = as_tcp(listener)
        assert tcp.proto == socket.IPPROTO_TCP
        assert tcp.getsockname() == listener.getsockname()
        with socket.create_connection(tcp.getsockname()):
            accepted, _ = tcp.accept()
            with accepted:
                assert accepted.proto == socket.IPPROTO_TCP  # asyncio sets TCP_NODELAY then
        tcp.close()
        assert as_tcp(listener) is not listener and as_tcp(tcp) is tcp
    finally:
        listener.close()


def test_uvicorns_own_listener_for_workers_is_tcp() -> None:
    """`serve --workers N` lets uvicorn bind the socket its workers share; since the fix of
    Kludex/uvicorn#3149 it names the protocol, and this fails if an older uvicorn comes back."""
    import uvicorn

    listener = uvicorn.Config("bot.server:from_env", host="127.0.0.1", port=0).bind_socket()
    try:
        assert listener.proto == socket.IPPROTO_TCP
    finally:
        listener.close()


def test_a_request_that_never_ends_does_not_hold_shutdown(tmp_path: Path) -> None:
    """A registration whose eval suite never answers (its deadline is an hour away) is in
    hand when SIGTERM comes: it gets PLAYBOOK_SHUTDOWN_TIMEOUT_S, then the process exits.
    (Work in the background is bounded too: tests/e2e/slack/test_slack_shutdown.py.)"""
    pid_file = tmp_path / "eval.pid"
    script = tmp_path / "stuck_eval.py"
    script.write_text(f"import os, signal\nopen({str(pid_file)!r}, 'w').write(str(os.getpid()))"
                      "\nsignal.pause()\n")
    (tmp_path / "playbook.toml").write_text(
        '[models.chat]\nmetric = "score"\n'
        f'evaluator = {{ command = "{sys.executable} {script}", timeout_s = 3600 }}\n')
    port = free_port()
    env, secret = served_by_env(tmp_path, port, PLAYBOOK_SHUTDOWN_TIMEOUT_S="1")
    log = tmp_path / "serve.log"
    with log.open("w") as err:
        proc = subprocess.Popen([sys.executable, "-m", "bot.cli.main", "serve"], env=env,
                                cwd=tmp_path, stderr=err, stdout=err)
    url = f"http://127.0.0.1:{port}"
    body = {"components": {"prompt": "hello"}, "owner": "ana", "reason": "r", "root": True}
    sent = threading.Thread(target=lambda: None)
    try:
        wait_live(proc, url, log)

        def register() -> None:
            with contextlib.suppress(httpx.HTTPError):
                httpx.post(f"{url}/v1/models/chat/versions", json=body, timeout=None,
                           headers={"Authorization": f"Bearer {secret}"})

        sent = threading.Thread(target=register, daemon=True)
        sent.start()
        until(pid_file.exists, "the eval suite to start")
        proc.send_signal(signal.SIGTERM)
        code = proc.wait(timeout=120)  # without the bound: an hour, the eval's deadline
        assert code != 0, log.read_text()  # the signal uvicorn re-raises once it has stopped
        assert "timeout graceful shutdown exceeded" in log.read_text()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        if pid_file.exists():  # the eval suite the forced exit left behind
            with contextlib.suppress(ProcessLookupError, ValueError):
                os.kill(int(pid_file.read_text()), signal.SIGKILL)
        sent.join(timeout=60)


@pytest.mark.parametrize("how", ["serve", "gunicorn"])
def test_open_route_streams_do_not_hold_shutdown(tmp_path: Path, how: str) -> None:
    """Serving processes hold route streams open for ever; on SIGTERM the server ends them
    and stops, instead of waiting out its grace period (an hour here) on every rolling
    deploy. The streams see their end (the client reconnects elsewhere)."""
    (tmp_path / "playbook.toml").write_text('[models.chat]\nmetric = "score"\n')
    port = free_port()
    env, _ = served_by_env(tmp_path, port, PLAYBOOK_SHUTDOWN_TIMEOUT_S="3600")
    made = subprocess.run([sys.executable, "-m", "bot.cli.main", "--json", "token", "create",
                           "--name", "svc", "--scope", "resolve"], env=env, cwd=tmp_path,
                          capture_output=True, text=True, timeout=120, check=True)
    reader = json.loads(made.stdout)["token"]
    argv = ([sys.executable, "-m", "bot.cli.main", "serve"] if how == "serve" else
            [str(BIN / "gunicorn"), "-k", "bot.workers.UvicornWorker", "-w", "1",
             "--graceful-timeout", "3600", "-b", f"127.0.0.1:{port}", "bot.server:from_env()"])
    log = tmp_path / "serve.log"
    with log.open("w") as err:
        proc = subprocess.Popen(argv, env=env, cwd=tmp_path, stderr=err, stdout=err)
    url = f"http://127.0.0.1:{port}"
    ended: list[str] = []

    def listen() -> None:
        with contextlib.suppress(httpx.HTTPError), httpx.stream(
                "GET", f"{url}/v1/models/chat/route/stream", timeout=None,
                headers={"Authorization": f"Bearer {reader}"}) as answer:
            for line in answer.iter_lines():
                if line.startswith("event: route"):
                    ended.append("route")
        ended.append("end")

    streams = [threading.Thread(target=listen, daemon=True) for _ in range(3)]
    try:
        wait_live(proc, url, log, how)
        for s in streams:
            s.start()
        until(lambda: ended.count("route") == 3, "three streams to get their first route")
        proc.send_signal(signal.SIGTERM)
        code = proc.wait(timeout=120)  # without ending the streams: the hour of grace
        assert code in (0, -signal.SIGTERM), log.read_text()
        until(lambda: ended.count("end") == 3, "the streams to see their end")
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
