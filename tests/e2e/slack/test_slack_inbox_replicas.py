"""Acknowledged means durable: a replica acknowledges /rehearse and /rollback and is killed
(-9) before it handled them. Another replica on the same PostgreSQL database takes both over
once their lease runs out: the rollback that never started runs there (production moves, the
requester gets the answer), and the rehearsal whose change had already committed is not run
again; its requester is told what was done."""

from __future__ import annotations

import signal
import subprocess
from pathlib import Path
from urllib.parse import urlencode

import httpx
from serve_process import serve, stop, wait_answering
from slack_fake_api import FakeSlack
from slack_harness import GATE, SECRET, promoted_twice, sign, write_workspace
from testkit.ports import free_port
from testkit.waiting import until

from bot import bootstrap
from bot.settings import Settings
from core.domain import PRODUCTION


def _command(url: str, fake: FakeSlack, command: str, text: str, trigger: str,
             channel: str) -> httpx.Response:
    body = urlencode({"command": command, "text": text, "user_id": "UANA",
                      "channel_id": channel, "channel_name": "x", "team_id": "T1",
                      "trigger_id": trigger, "response_url": fake.response_url(trigger)})
    return httpx.post(f"{url}/slack/events", content=body.encode(), timeout=30, headers={
        "Content-Type": "application/x-www-form-urlencoded", **sign(body)})


def test_requests_acknowledged_by_a_replica_killed_before_handling_them_are_not_lost(
        tmp_path: Path, fake: FakeSlack, postgres_url: str) -> None:
    config = write_workspace(tmp_path)
    ids = {m: [v.id for v in vs] for m, vs in
           promoted_twice(config, tmp_path / "seed", postgres_url, ("chat", "slow")).items()}
    env = {"SLACK_BOT_TOKEN": "xoxb-test-token", "SLACK_SIGNING_SECRET": SECRET,
           "SLACK_API_URL": fake.api_url, "DATABASE_URL": postgres_url,
           "PLAYBOOK_SLACK_LEASE_S": "3"}
    procs: list[subprocess.Popen[str]] = []
    try:
        port_a = free_port()
        a = serve(config, tmp_path / "a", "replica-a", {**env, "SLACK_WORKERS": "1"},
                  "--port", str(port_a), stderr=subprocess.DEVNULL)
        procs.append(a)
        wait_answering(a, f"http://127.0.0.1:{port_a}/healthz")
        url_a = f"http://127.0.0.1:{port_a}"
        # Its one worker takes the rehearsal, whose eval waits for GATE; the rollback waits
        # in line behind it. Both are acknowledged.
        assert _command(url_a, fake, "/rehearse", "slow", "t-drill", "CINC").status_code == 200
        app = bootstrap.build(Settings(migrate=True, config_path=config, home=tmp_path / "check",
                                       database_url=postgres_url, actor="check"))
        try:
            def drill_moved() -> bool:
                with app.ctx.uow() as uow:
                    return uow.tags.get("slow", "rehearsal") is not None

            until(drill_moved, "the rehearsal to move its tag on replica a")
            assert _command(url_a, fake, "/rollback", "chat because empty answers",
                            "t-roll", "CINC").status_code == 200
            a.send_signal(signal.SIGKILL)
            a.wait(timeout=60)
            with app.ctx.uow() as uow:  # acknowledged, and nothing of the rollback happened
                assert uow.tags.get("chat", PRODUCTION).version_id == ids["chat"][1]  # type: ignore[union-attr]
                drill_moves = len(uow.events.history("slow", "rehearsal"))  # 1 or 2 by now
            assert fake.responses("t-roll") == []

            port_b = free_port()
            b = serve(config, tmp_path / "b", "replica-b", env, "--port", str(port_b),
                      stderr=subprocess.DEVNULL)
            procs.append(b)
            wait_answering(b, f"http://127.0.0.1:{port_b}/healthz")

            def rolled_back() -> bool:
                with app.ctx.uow() as uow:
                    tag = uow.tags.get("chat", PRODUCTION)
                return tag is not None and tag.version_id == ids["chat"][0]

            until(rolled_back, "replica b to resume the rollback")
            answered = fake.wait_for(lambda: fake.responses("t-roll"))
            assert "rolled back" in str(answered).lower(), answered
            told = fake.wait_for(lambda: fake.responses("t-drill"))
            assert "carried out before the server handling it stopped" in str(told)
            (tmp_path / GATE).touch()
            with app.ctx.uow() as uow:
                tag = uow.tags.get("chat", PRODUCTION)
                assert tag is not None and tag.revision == 3  # one rollback, not two
                # the drill is not run again on replica b: its moves are replica a's
                assert len(uow.events.history("slow", "rehearsal")) == drill_moves
        finally:
            app.close()
    finally:
        (tmp_path / GATE).touch()
        for proc in procs:
            if proc.poll() is None:
                stop(proc)
