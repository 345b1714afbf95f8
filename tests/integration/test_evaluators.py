"""The real evaluator adapters against a real HTTP service and real processes: `timeout_s`
is a deadline for the whole evaluation, and nothing an evaluator started outlives it."""

from __future__ import annotations

import http.server
import json
import os
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from testkit.ports import bind_free
from testkit.waiting import until

from bot.evaluators import CommandEvaluator, HttpEvaluator
from core.errors import EvaluatorError

from .builders import version

V = version(1)


class Dripping(http.server.BaseHTTPRequestHandler):
    """Answers 200 and then one byte at a time, for as long as the client listens: every
    single read is quick, the whole answer never ends."""

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        try:
            self.wfile.write(b'{"scores": {"accuracy": 0.9')
            while not self.server.stopping.is_set():  # type: ignore[attr-defined]
                self.wfile.write(b" ")
                self.wfile.flush()
                self.server.stopping.wait(0.2)  # type: ignore[attr-defined]
        except OSError:
            return  # the client gave up: the point

    def log_message(self, *args: object) -> None:
        return


class Answering(http.server.BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        body = json.dumps({"scores": {"accuracy": 0.75}}).encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        return


def serve(handler: type[http.server.BaseHTTPRequestHandler]) -> Iterator[str]:
    sock = bind_free()
    server = http.server.ThreadingHTTPServer(sock.getsockname(), handler,
                                             bind_and_activate=False)
    server.socket.close()
    server.socket = sock
    server.socket.listen()
    server.stopping = threading.Event()  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{sock.getsockname()[1]}/eval"
    server.stopping.set()  # type: ignore[attr-defined]
    server.shutdown()
    server.server_close()


@pytest.fixture
def dripping() -> Iterator[str]:
    yield from serve(Dripping)


@pytest.fixture
def answering() -> Iterator[str]:
    yield from serve(Answering)


def test_an_http_service_that_never_finishes_its_answer_is_stopped_at_the_deadline(
        dripping: str) -> None:
    """Each read returns within httpx's per-read timeout; only a total deadline ends it."""
    evaluator = HttpEvaluator(dripping, timeout_s=1.0)
    with pytest.raises(EvaluatorError, match="did not answer within 1 s"):
        evaluator.evaluate(V)


def test_an_http_service_that_answers_in_time_gives_its_scores(answering: str) -> None:
    assert HttpEvaluator(answering, timeout_s=30).evaluate(V) == {"accuracy": 0.75}


def _gone(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return True
    return state == "Z"  # killed, waiting for init to reap it


def test_a_command_over_its_deadline_is_killed_with_everything_it_started(
        tmp_path: Path) -> None:
    pids = tmp_path / "pids"
    script = tmp_path / "slow_eval.py"
    script.write_text(f"""
import os, signal, subprocess, sys
child = subprocess.Popen([sys.executable, "-c", "import signal; signal.pause()"])
with open({str(pids)!r} + ".tmp", "w") as out:
    out.write(f"{{os.getpid()}} {{child.pid}}")
os.replace({str(pids)!r} + ".tmp", {str(pids)!r})
signal.pause()  # never answers: only the deadline ends it
""")
    evaluator = CommandEvaluator(f"{sys.executable} {script}", timeout_s=1.0)
    for _ in range(10):  # a slow machine may reach the deadline before the child starts
        with pytest.raises(EvaluatorError, match="ran over 1 s and was stopped"):
            evaluator.evaluate(V)
        if pids.exists():
            break
    started = [int(p) for p in pids.read_text().split()]
    assert len(started) == 2 and os.getpid() not in started
    until(lambda: all(_gone(p) for p in started), "the command and its child to be killed")
