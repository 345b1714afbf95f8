"""`playbook serve` as a platform team runs it: a real process, configured by environment
variables only, its stderr not a terminal. Its logs are JSON lines, each with the id of the
request it belongs to; the id comes back in `X-Request-ID` and is stored on the play run the
request started; `/livez` and `/readyz` answer."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
from testkit.ports import free_port
from testkit.serving import wait_live
from testkit.waiting import until

import bot

ROOT = str(Path(bot.__file__).resolve().parent.parent)


def playbook(env: dict[str, str], *argv: str) -> Any:
    done = subprocess.run([sys.executable, "-m", "bot.cli.main", "--json", *argv], env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_json_logs_carry_the_request_id_into_the_play_run(tmp_path: Path) -> None:
    (tmp_path / "playbook.toml").write_text('[models.chat]\nmetric = "score"\n')
    env = {"PATH": os.environ["PATH"], "PYTHONPATH": ROOT,
           "PLAYBOOK_CONFIG": str(tmp_path / "playbook.toml"),
           "PLAYBOOK_HOME": str(tmp_path / "home"), "PLAYBOOK_USER": "ops",
           "PLAYBOOK_LOG_LEVEL": "INFO"}
    secret = playbook(env, "token", "create", "--name", "ci", "--scope", "register")["token"]
    port = free_port()
    log = tmp_path / "serve.log"
    with log.open("w") as err:
        proc = subprocess.Popen([sys.executable, "-m", "bot.cli.main", "serve", "--http-only",
                                 "--port", str(port)], env=env, stderr=err,
                                stdout=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_live(proc, url, log, "playbook serve")
        assert httpx.get(f"{url}/readyz").json()["status"] == "ok"
        body = {"components": {"prompt": "hello"}, "owner": "ana", "reason": "r", "root": True,
                "scores": {"score": 0.5}}
        made = httpx.post(f"{url}/v1/models/chat/versions", json=body, headers={
            "Authorization": f"Bearer {secret}", "X-Request-ID": "req-42"})
        assert made.status_code == 201, made.text
        assert made.headers["x-request-id"] == "req-42"
        other = httpx.get(f"{url}/readyz", headers={"X-Request-ID": "bad id with spaces"})
        assert other.headers["x-request-id"] != "bad id with spaces"  # a fresh one instead
        assert len(other.headers["x-request-id"]) == 32

        (run,) = playbook(env, "runs", "--play", "register")
        assert run["request_id"] == "req-42"

        def run_logged() -> list[dict[str, Any]]:
            lines = [json.loads(line) for line in log.read_text().splitlines() if line]
            return [e for e in lines if e["logger"] == "playbook.plays"]

        (line,) = until(run_logged, "the register run's log line")
        assert line["request_id"] == "req-42" and line["level"] == "INFO"
        assert run["id"] in line["message"]
    finally:
        proc.terminate()
        proc.wait(timeout=60)
    lines = log.read_text().splitlines()
    assert lines and all(json.loads(x)["ts"] for x in lines)  # every line is JSON
    assert any(json.loads(x)["logger"].startswith("uvicorn") for x in lines)
