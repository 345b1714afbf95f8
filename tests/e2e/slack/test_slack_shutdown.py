"""The Slack role stopping while a play runs in its background pool: a /rollback whose
confirming eval never answers (its deadline is an hour away). Open requests had
PLAYBOOK_SHUTDOWN_TIMEOUT_S; the background gets as long again, then the process exits
anyway, saying so. The rollback itself committed before; only its confirmation is left, and
the leftovers sweep of another replica confirms it later (tests/e2e/slack/
test_slack_crash_leftovers.py)."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx
from slack_harness import SECRET, TOKEN, sign, workspace_fake
from testkit.ports import free_port
from testkit.serving import wait_live
from testkit.waiting import until

import bot

ROOT = str(Path(bot.__file__).resolve().parent.parent)


def test_background_work_that_never_ends_does_not_hold_shutdown(tmp_path: Path) -> None:
    started = tmp_path / "started"
    (tmp_path / "eval.py").write_text(
        "import os, signal, sys\n"
        f"if os.path.exists({str(tmp_path / 'stuck')!r}):\n"
        f"    open({str(started)!r}, 'w').write(str(os.getpid()))\n"
        "    signal.pause()\n"
        "print('{\"scores\": {\"score\": 0.9}}')\n")
    (tmp_path / "playbook.toml").write_text(
        '[models.chat]\nmetric = "score"\nowner = "UANA"\nincident_channel = "CINC"\n'
        f'evaluator = {{ command = "{sys.executable} {tmp_path / "eval.py"}", '
        'timeout_s = 3600 }\n')
    fake = workspace_fake()
    port = free_port()
    env = {"PATH": os.environ["PATH"], "PYTHONPATH": ROOT,
           "PLAYBOOK_CONFIG": str(tmp_path / "playbook.toml"),
           "PLAYBOOK_HOME": str(tmp_path / "home"), "PLAYBOOK_USER": "UANA",
           "PLAYBOOK_LOG_LEVEL": "INFO", "PLAYBOOK_PORT": str(port),
           "SLACK_BOT_TOKEN": TOKEN, "SLACK_SIGNING_SECRET": SECRET,
           "SLACK_API_URL": fake.api_url, "PLAYBOOK_SHUTDOWN_TIMEOUT_S": "1"}

    def playbook(*argv: str) -> Any:
        done = subprocess.run([sys.executable, "-m", "bot.cli.main", "--json", *argv], env=env,
                              cwd=tmp_path, capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr
        return json.loads(done.stdout)

    v1 = playbook("register", "chat", "--root", "--owner", "UANA", "--reason", "r",
                  "--prompt", "one")["id"]
    playbook("promote", "chat", f"chat@{v1}")
    v2 = playbook("register", "chat", "--parent", f"chat@{v1}", "--owner", "UANA",
                  "--reason", "r", "--prompt", "two")["id"]
    playbook("promote", "chat", f"chat@{v2}")
    (tmp_path / "stuck").touch()  # from now on the eval suite never answers

    log = tmp_path / "serve.log"
    with log.open("w") as err:
        proc = subprocess.Popen([sys.executable, "-m", "bot.cli.main", "serve"], env=env,
                                cwd=tmp_path, stderr=err, stdout=err)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_live(proc, url, log, "the Slack role")
        body = urlencode({"command": "/rollback", "text": "chat", "user_id": "UANA",
                          "channel_id": "CINC", "channel_name": "incidents", "team_id": "T1",
                          "trigger_id": "t-stuck",
                          "response_url": fake.response_url("t-stuck")})
        answer = httpx.post(f"{url}/slack/events", content=body, headers={
            "Content-Type": "application/x-www-form-urlencoded", **sign(body)})
        assert answer.status_code == 200, answer.text
        until(started.exists, "the rollback's confirming eval to start")
        proc.send_signal(signal.SIGTERM)
        code = proc.wait(timeout=120)  # without the bound: an hour, the eval's deadline
        text = log.read_text()
        assert code == 1, text
        assert "shutdown still busy after 1 s; exiting now" in text, text
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        if started.exists():  # the eval suite the forced exit left behind
            with contextlib.suppress(ProcessLookupError, ValueError):
                os.kill(int(started.read_text()), signal.SIGKILL)
        fake.stop()
    tags = playbook("tags", "chat")  # the rollback itself had committed
    assert any(t["tag"] == "production" and t["version"] == v1 for t in tags), tags
