"""Two `playbook serve` processes on one PostgreSQL database, the Slack Web API served locally:
each scheduled digest and reminder is posted once, and a rehearsal's time-to-rollback shows in
the digest.

The test tells both replicas when "now" is: each runs under libfaketime, its clock starting a
few seconds before an explicit fire time, so nothing depends on the hour the suite runs at.
Nothing races either: a replica that is slow to start and comes up after the fire time catches
the slot up on start (catch_up_minutes), through the same claim. The test waits until each
replica's log says what it did with each slot (posted it, or found it claimed), then counts.
"""

from __future__ import annotations

import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from serve_process import serve, stop, wait_answering
from slack_fake_api import FakeSlack
from slack_harness import SECRET, TOKEN, write_workspace
from testkit.claims import Claims
from testkit.clock import TestClock
from testkit.ports import free_port
from testkit.waiting import until

from bot import bootstrap
from bot.settings import Settings
from core.commands import Approve, Promote, Register, Rehearse
from core.plays import approve, promote, register, rehearse
from storage.database import make_engine
from storage.uow import uow_factory

FIRE = datetime(2026, 3, 10, 9, 0, 0, tzinfo=UTC)
START = FIRE - timedelta(seconds=6)  # what the replicas' clocks say when they start
JOBS = ("digest:CREL", "rehearsal-check")


def _seed(config: Path, home: Path, database: str) -> str:
    """An hour before the fire time: chat has two versions in production and one rehearsal;
    risky is in production, never rehearsed (so the rehearsal check reminds about it).
    Answers the rehearsal's incident."""
    app = bootstrap.build(Settings(migrate=True, config_path=config, home=home,
                                   database_url=database, actor="UANA"),
                          clock=TestClock(FIRE - timedelta(hours=1)))
    try:
        ctx = app.ctx
        versions = []
        for model, prompt in (("chat", "x" * 60), ("chat", "x" * 70), ("risky", "r" * 60)):
            parent = versions[-1].short if versions and model == "chat" else None
            versions.append(register(Register.parse(
                model=model, components={"prompt": prompt}, owner="UANA", reason="seed",
                parent=parent, root=parent is None, scores={"score": len(prompt) / 100},
                actor="UANA"), ctx).version)
        for v in versions[:2]:
            promote(Promote.parse(model="chat", version=v.short, actor="UANA"), ctx)
        request = promote(Promote.parse(model="risky", version=versions[2].short,
                                        actor="UANA"), ctx).request
        assert request is not None
        approve(Approve.parse(request_id=request.id, approver="UBEN"), ctx)
        return rehearse(Rehearse.parse(model="chat", actor="UANA"), ctx).incident.id
    finally:
        app.close()


def _handled(log: Path, job: str) -> bool:
    """The replica has posted the slot, or found it claimed by the other (log lines of
    bot/scheduler: "<job> at <time>: posted by ..." / ": claimed by ...")."""
    return f"{job} at {FIRE.isoformat()}: " in log.read_text(errors="replace")


def test_two_replicas_post_each_digest_and_reminder_once(
        tmp_path: Path, fake: FakeSlack, postgres_url: str) -> None:
    config = write_workspace(tmp_path)
    at = FIRE.strftime("%H:%M:%S")
    config.write_text(config.read_text()
                      .replace('at = "09:00"', f'at = "{at}"')
                      .replace("catch_up_minutes = 0", "catch_up_minutes = 10")
                      .replace('timezone = "UTC"',
                               f'timezone = "UTC"\nrehearsal_check_at = "{at}"'))
    incident = _seed(config, tmp_path / "seed", postgres_url)

    env = {"SLACK_BOT_TOKEN": TOKEN, "SLACK_SIGNING_SECRET": SECRET,
           "SLACK_API_URL": fake.api_url, "DATABASE_URL": postgres_url,
           "PLAYBOOK_LOG_LEVEL": "INFO"}
    ports = [free_port(), free_port()]
    logs = [tmp_path / f"replica{i}.log" for i in range(2)]
    procs: list[subprocess.Popen[str]] = []
    try:
        for i, port in enumerate(ports):
            with logs[i].open("w") as err:
                procs.append(serve(config, tmp_path / f"replica{i}", f"replica{i}", env,
                                   "--port", str(port), clock=START, stderr=err))
        for proc, port in zip(procs, ports, strict=True):
            wait_answering(proc, f"http://127.0.0.1:{port}/healthz")
        until(lambda: all(_handled(log, job) for log in logs for job in JOBS),
              lambda: "both replicas to handle both slots; their logs:\n" + "\n".join(
                  log.read_text(errors="replace")[-3000:] for log in logs))

        def posted() -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
            """What the notifiers posted from the slots' events (each event is delivered by
            one replica's dispatcher, after the slot's claim was done)."""
            return ([c.params for c in fake.called("chat.postMessage", channel="CREL")
                     if "Daily digest" in str(c.params.get("text"))],
                    [c.params for c in fake.called("chat.postMessage", channel="#incidents")
                     if "due a rollback rehearsal" in str(c.params.get("text"))])

        fake.wait_for(lambda: all(posted()))
        digests, reminders = posted()
        assert len(digests) == 1, fake.summary()
        assert len(reminders) == 1, fake.summary()
        body = str(digests[0]["blocks"])
        assert incident in body and "time to rollback" in body
        assert "risky" in str(reminders[0]["text"])

        engine = make_engine(postgres_url)
        try:
            claim = Claims(uow_factory(engine)).get("digest:CREL", FIRE)
        finally:
            engine.dispose()
        assert claim is not None and claim.done_at is not None and claim.attempts == 1
        assert claim.claimed_by.split(":")[1] in {str(p.pid) for p in procs}
    finally:
        for proc in procs:
            stop(proc)
