"""playbook-client in a serving process, against a real `playbook serve`: Playbook is stopped
under steady traffic, production is rolled back meanwhile (by the CLI, on the database), and
Playbook is started again. The serving process meets zero errors, keeps serving the last known
version while Playbook is away, follows the rollback once Playbook is back, and accounts for
every attribution: delivered + dropped = recorded, and what was delivered is stored once."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

from testkit.ports import free_port
from testkit.serving import wait_live
from testkit.waiting import until

import bot

ROOT = str(Path(bot.__file__).resolve().parent.parent)
APP = str(Path(__file__).resolve().parent / "serving_app.py")


def test_serving_rides_out_playbook_going_away_and_follows_a_rollback(tmp_path: Path) -> None:
    (tmp_path / "playbook.toml").write_text('[models.chat]\nmetric = "score"\n')
    port = free_port()
    env = {"PATH": os.environ["PATH"], "PYTHONPATH": ROOT,
           "PLAYBOOK_CONFIG": str(tmp_path / "playbook.toml"),
           "PLAYBOOK_HOME": str(tmp_path / "home"), "PLAYBOOK_USER": "ops",
           "PLAYBOOK_PORT": str(port), "PLAYBOOK_SERVE_MODE": "http-only",
           "PLAYBOOK_STREAM_POLL_S": "0.1"}

    def playbook(*argv: str) -> Any:
        done = subprocess.run([sys.executable, "-m", "bot.cli.main", "--json", *argv], env=env,
                              cwd=tmp_path, capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr
        return json.loads(done.stdout)

    common = ("--owner", "ana", "--reason", "r", "--score", "score=0.9")
    v1 = playbook("register", "chat", "--root", "--prompt", "one", *common)["id"]
    v2 = playbook("register", "chat", "--parent", f"chat@{v1}", "--prompt", "two",
                  *common)["id"]
    playbook("promote", "chat", f"chat@{v1}")
    playbook("promote", "chat", f"chat@{v2}")
    secret = playbook("token", "create", "--name", "chat-svc", "--scope", "resolve",
                      "--scope", "attribute", "--model", "chat")["token"]

    def start_playbook() -> subprocess.Popen[str]:
        proc = subprocess.Popen([sys.executable, "-m", "bot.cli.main", "serve"], env=env,
                                cwd=tmp_path, stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL, text=True)

        wait_live(proc, f"http://127.0.0.1:{port}", what="playbook serve")
        return proc

    status, stop = tmp_path / "status.json", tmp_path / "stop"
    server = start_playbook()
    app = subprocess.Popen(
        [sys.executable, APP, f"http://127.0.0.1:{port}", secret, "chat", str(status),
         str(stop), str(tmp_path / "route-cache.json")],
        env={"PATH": os.environ["PATH"]}, cwd=tmp_path, stderr=subprocess.PIPE, text=True)

    def seen() -> dict[str, Any]:
        assert app.poll() is None or stop.exists(), app.stderr.read() if app.stderr else ""
        try:
            return json.loads(status.read_text()) if status.exists() else {}
        except ValueError:
            return {}

    try:
        until(lambda: seen().get("version") == v2
              and seen()["attributions"]["delivered"] > 0, "serving to follow production")
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=60)
        until(lambda: seen().get("stale"), "serving to notice Playbook is away")
        away = seen()["served"]
        until(lambda: seen()["served"] > away + 200, "serving to go on while Playbook is away")
        assert seen()["version"] == v2  # the last known version (fail static)

        playbook("rollback", "chat", "--symptom", "bad answers")  # on the database
        server = start_playbook()
        until(lambda: seen().get("version") == v1 and not seen()["stale"],
              "serving to follow the rollback once Playbook is back")
        before = seen()["attributions"]["delivered"]
        until(lambda: seen()["attributions"]["delivered"] > before,
              "attributions to flow again")
    finally:
        stop.touch()
        app.wait(timeout=60)
        end = seen()
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=60)
    assert end["done"] and end["errors"] == 0, end
    counts = end["attributions"]
    assert counts["queued"] == 0
    assert counts["delivered"] + counts["dropped"] == counts["recorded"] == end["served"], end
    assert set(end["versions"]) == {v1, v2}
    with sqlite3.connect(tmp_path / "home" / "playbook.db") as db:
        stored = db.execute("SELECT count(*) FROM attributions").fetchone()[0]
    assert stored == counts["delivered"]  # each once: retried batches were not stored twice
    assert end["server_code_loaded"] is False  # the serving process never loads Playbook
