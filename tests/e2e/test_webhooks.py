"""Signed webhooks as a team wires them: a [[webhooks]] table, a receiver that checks the
signature the way docs/webhooks.md shows, a running server delivering what the CLI's plays
did, a receiver failing once (retried alone, with the same delivery id), and `playbook
webhooks` / `webhooks test` telling what happened."""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from testkit.ports import free_port
from testkit.waiting import until

import bot

ROOT = str(Path(bot.__file__).resolve().parent.parent)
SECRET = "whsec-test-0123456789"


def verify(secret: str, headers: Any, body: bytes, now: float, tolerance_s: int = 300) -> bool:
    """The receiver's check, as docs/webhooks.md writes it."""
    stamp = headers["X-Playbook-Timestamp"]
    if abs(now - int(stamp)) > tolerance_s:
        return False
    mac = hmac.new(secret.encode(), b"v1:" + stamp.encode() + b":" + body, hashlib.sha256)
    return hmac.compare_digest("v1=" + mac.hexdigest(), headers["X-Playbook-Signature"])


class Receiver:
    def __init__(self, fail_first: int = 0) -> None:
        self.got: list[dict[str, Any]] = []
        self.fail_left = fail_first
        self.lock = threading.Lock()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                with outer.lock:
                    good = verify(SECRET, self.headers, body, time.time())
                    failing = outer.fail_left > 0 and good
                    outer.fail_left -= failing
                    outer.got.append({"body": json.loads(body), "signed": good,
                                      "id": self.headers["X-Playbook-Delivery"],
                                      "event": self.headers["X-Playbook-Event"],
                                      "answered": 500 if failing else 200 if good else 401})
                self.send_response(outer.got[-1]["answered"])
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def accepted(self) -> list[dict[str, Any]]:
        with self.lock:
            return [g for g in self.got if g["answered"] == 200]


def test_webhooks_are_signed_retried_alone_and_reported(tmp_path: Path) -> None:
    receiver = Receiver(fail_first=1)
    (tmp_path / "playbook.toml").write_text(f"""
[models.chat]
metric = "score"

[[webhooks]]
name = "deploys"
url = "{receiver.url}"
events = ["TagMoved", "IncidentOpened"]
secret = "env:HOOK_SECRET"
""")
    port = free_port()
    env = {"PATH": os.environ["PATH"], "PYTHONPATH": ROOT,
           "PLAYBOOK_CONFIG": str(tmp_path / "playbook.toml"),
           "PLAYBOOK_HOME": str(tmp_path / "home"), "PLAYBOOK_USER": "ops",
           "PLAYBOOK_PORT": str(port), "PLAYBOOK_SERVE_MODE": "http-only",
           "HOOK_SECRET": SECRET}

    def playbook(*argv: str, ok: bool = True, **extra: str) -> Any:
        done = subprocess.run([sys.executable, "-m", "bot.cli.main", "--json", *argv],
                              env={**env, **extra}, cwd=tmp_path, capture_output=True,
                              text=True, timeout=120)
        assert (done.returncode == 0) == ok, done.stderr
        return json.loads(done.stdout) if ok else done.stderr

    common = ("--owner", "ana", "--reason", "r", "--score", "score=0.9")
    v1 = playbook("register", "chat", "--root", "--prompt", "one", *common)["id"]
    v2 = playbook("register", "chat", "--parent", f"chat@{v1}", "--prompt", "two",
                  *common)["id"]
    playbook("promote", "chat", f"chat@{v1}")
    playbook("promote", "chat", f"chat@{v2}")
    playbook("rollback", "chat", "--symptom", "bad answers")
    pending = playbook("webhooks")[0]["deliveries"]
    assert pending == {"pending": 4, "done": 0, "dead": 0}  # written with the plays

    server = subprocess.Popen([sys.executable, "-m", "bot.cli.main", "serve"], env=env,
                              cwd=tmp_path, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    try:
        until(lambda: len(receiver.accepted()) == 4, "the server to deliver all four")
    finally:
        server.terminate()
        server.wait(timeout=60)
    got = receiver.accepted()
    assert all(g["signed"] for g in receiver.got)
    assert [g["event"] for g in got].count("TagMoved") == 3
    assert [g["event"] for g in got].count("IncidentOpened") == 1
    moves = [g["body"]["data"]["to_version"] for g in got if g["event"] == "TagMoved"]
    assert moves == [v1, v2, v1]  # in order: one subject's deliveries wait for the earlier
    (failed,) = [g for g in receiver.got if g["answered"] == 500]
    assert failed["id"] in [g["id"] for g in got]  # its retry kept the delivery id
    assert len({g["id"] for g in got}) == 4
    assert playbook("webhooks")[0]["deliveries"] == {"pending": 0, "done": 4, "dead": 0}

    ping = playbook("webhooks", "test", "deploys")
    assert ping["status"] == 200 and receiver.got[-1]["event"] == "ping"
    unset = playbook("webhooks", "test", "deploys", ok=False, HOOK_SECRET="")
    assert "HOOK_SECRET is not set" in unset
    bad = tmp_path / "bad.toml"
    bad.write_text('[models.chat]\n[[webhooks]]\nname = "x"\nurl = "ftp://h"\n'
                   'secret = "s3cr3t"\nevents = ["Nope"]\n')
    refused = playbook("--config", str(bad), "webhooks", ok=False)
    assert "webhooks.0.url" in refused and "webhooks.0.secret" in refused
    assert "webhooks.0.events: unknown event(s) Nope" in refused
    receiver.server.shutdown()
