"""Two `playbook serve` processes on one PostgreSQL database, the Slack Web API served locally:
each scheduled digest and reminder is posted once, and a rehearsal's time-to-rollback shows in
the digest. The schedule is set a few seconds ahead (times take seconds), so the test waits
seconds, not for a cron minute."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from slack_fake_api import FakeSlack
from slack_harness import SECRET, TOKEN, workspace_fake, write_workspace
from test_slack_serve_cli import ROOT, _free_port

from bot import bootstrap
from bot.settings import Settings
from core.commands import Approve, Promote, Register, Rehearse
from core.plays import approve, promote, register, rehearse
from storage.database import make_engine
from storage.repositories.claims import SqlJobClaims

LEAD = timedelta(seconds=14)  # two processes start well within this


@pytest.fixture
def fake() -> Iterator[FakeSlack]:
    started = workspace_fake()
    yield started
    started.stop()


def _seed(config: Path, home: Path, database: str) -> str:
    """chat: two versions in production, one rehearsal; risky: in production, never
    rehearsed (so the rehearsal check reminds about it). Answers the rehearsal's incident."""
    app = bootstrap.build(Settings(config_path=config, home=home, database_url=database,
                                   actor="UANA"))
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


def _serve(tmp: Path, config: Path, name: str, port: int, env: dict[str, str]
           ) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "bot.cli.main", "--config", str(config), "--home",
         str(tmp / name), "--as", name, "serve", "--port", str(port)],
        env={**os.environ, "PYTHONPATH": ROOT, **env}, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, text=True, cwd=tmp)


def test_two_replicas_post_each_digest_and_reminder_once(
        tmp_path: Path, fake: FakeSlack, postgres_url: str) -> None:
    config = write_workspace(tmp_path)
    fire = (datetime.now(UTC) + LEAD).replace(microsecond=0)
    clock = fire.strftime("%H:%M:%S")
    text = config.read_text().replace('at = "09:00"', f'at = "{clock}"').replace(
        'timezone = "UTC"', f'timezone = "UTC"\nrehearsal_check_at = "{clock}"')
    config.write_text(text)
    incident = _seed(config, tmp_path / "seed", postgres_url)

    env = {"SLACK_BOT_TOKEN": TOKEN, "SLACK_SIGNING_SECRET": SECRET,
           "SLACK_API_URL": fake.api_url, "DATABASE_URL": postgres_url}
    ports = [_free_port(), _free_port()]
    procs = [_serve(tmp_path, config, f"replica{i}", port, env)
             for i, port in enumerate(ports)]
    try:
        for proc, port in zip(procs, ports, strict=True):
            deadline = time.monotonic() + 20
            while True:
                assert proc.poll() is None, proc.communicate()[1][-2000:]
                try:
                    if httpx.get(f"http://127.0.0.1:{port}/healthz").status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                assert time.monotonic() < deadline, "playbook serve did not start"
                time.sleep(0.1)
        assert datetime.now(UTC) < fire, "the replicas started after the fire time; raise LEAD"

        def digests() -> list[dict[str, object]]:
            return [c.params for c in fake.called("chat.postMessage", channel="CREL")
                    if "Daily digest" in str(c.params.get("text"))]

        def reminders() -> list[dict[str, object]]:
            return [c.params for c in fake.called("chat.postMessage", channel="#incidents")
                    if "due a rollback rehearsal" in str(c.params.get("text"))]

        fake.wait_for(lambda: digests() and reminders(), timeout=LEAD.seconds + 20)
        time.sleep(3)  # the other replica's fire has long happened by now
        assert len(digests()) == 1, fake.summary()
        assert len(reminders()) == 1, fake.summary()
        (digest,) = digests()
        body = str(digest["blocks"])
        assert incident in body and "time to rollback" in body
        assert "risky" in str(reminders()[0]["text"])

        engine = make_engine(postgres_url)
        try:
            claim = SqlJobClaims(engine).get("digest:CREL", fire)
        finally:
            engine.dispose()
        assert claim is not None and claim.done_at is not None and claim.attempts == 1
        assert claim.claimed_by.split(":")[1] in {str(p.pid) for p in procs}
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            try:
                proc.communicate(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.communicate()
