"""Drives the real ASGI app (bot.server.create_asgi, served by uvicorn on a free port) with
signed, Slack-shaped requests, against the local Web API stand-in."""

from __future__ import annotations

import itertools
import json
import sys
import textwrap
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest
import uvicorn
from slack_fake_api import FakeSlack
from slack_sdk.signature import SignatureVerifier
from testkit.clock import TestClock
from testkit.ports import bind_free
from testkit.waiting import LIMIT_S, until

from bot import bootstrap
from bot.bootstrap import App
from bot.dispatcher import OutboxRunner
from bot.settings import Settings
from bot.shared.slack_ids import as_slack_sends
from bot.slack.runtime import SlackRuntime
from core.commands import Approve, Promote, Register
from core.domain import PRODUCTION, ApprovalRequest, Version
from core.plays import approve, promote, register

SECRET = "test-signing-secret-0123456789abcdef"
TOKEN = "xoxb-test-token"

GATE = "slow-evals.open"  # the `slow` model's evals wait until the test creates this file
EVAL = textwrap.dedent(f"""
    import json, os, sys, time
    if "--gate" in sys.argv:  # a slow eval: it finishes when the test says so
        while not os.path.exists("{GATE}"):
            time.sleep(0.02)
    v = json.load(sys.stdin)
    prompt = v["components"].get("prompt") or ""
    print(json.dumps({{"scores": {{"score": round(min(1.0, len(prompt) / 100), 4)}}}}))
""")

CONFIG = textwrap.dedent(f"""
    [defaults]
    metric = "score"
    min_score = 0.1
    canary = {{ min_sample = 50 }}  # the canary tests seed 60 records per arm
    evaluator = {{ command = "{sys.executable} eval.py", timeout_s = 30 }}

    [models.chat]
    stakes = "low"
    owner = "UANA"
    incident_channel = "CINC"
    release_channel = "CREL"
    experiment_retention_days = 2
    deploy_path = "deploy.sh"

    [models.risky]
    stakes = "high"
    owner = "UANA"
    approvers = ["UBEN", "UCHO", "UFAY"]
    incident_channel = "#incidents"
    release_channel = "#releases"

    [models.strict]
    stakes = "regulated"
    owner = "UANA"
    approver_group = "SAPPROVERS"
    release_channel = "CREL"
    approval_ttl_hours = 1

    [models.adhoc]  # no channels: rolled back wherever it is asked for
    stakes = "low"
    owner = "UANA"

    [models.slow]
    stakes = "low"
    evaluator = {{ command = "{sys.executable} eval.py --gate", timeout_s = 600 }}

    [schedule]
    timezone = "UTC"
    catch_up_minutes = 0  # tests that start servers must not meet a catch-up post by chance

    [[schedule.digest]]
    channel = "CREL"
    at = "09:00"
    models = ["chat", "risky"]
""")


def sign(body: str, timestamp: int | None = None, secret: str = SECRET) -> dict[str, str]:
    ts = str(int(time.time()) if timestamp is None else timestamp)
    return {"X-Slack-Request-Timestamp": ts,
            "X-Slack-Signature": SignatureVerifier(secret).generate_signature(timestamp=ts,
                                                                               body=body)}


@dataclass
class Sent:
    response: httpx.Response
    trigger: str


class Server:
    """uvicorn in a thread, on a socket bound to a free port first."""

    def __init__(self, asgi: Any) -> None:
        self._sock = bind_free()
        self.url = f"http://127.0.0.1:{self._sock.getsockname()[1]}"
        self._server = uvicorn.Server(uvicorn.Config(asgi, log_level="warning"))
        self._thread = threading.Thread(target=self._server.run,
                                        kwargs={"sockets": [self._sock]}, daemon=True)

    def start(self) -> Server:
        self._thread.start()
        until(lambda: self._server.started or not self._thread.is_alive(), "uvicorn to start")
        assert self._server.started, "uvicorn stopped before it started"
        return self

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(10)
        self._sock.close()


class Harness:
    def __init__(self, playbook: App, fake: FakeSlack, url: str, clock: TestClock,
                 runtime: SlackRuntime, outbox: OutboxRunner) -> None:
        self.playbook = playbook
        self.outbox = outbox
        self.fake = fake
        self.url = url
        self.clock = clock
        self.rt = runtime
        self.http = httpx.Client(base_url=url, timeout=30)
        self._ids = itertools.count(1)

    # -- requests --------------------------------------------------------------------------

    def post(self, body: str, content_type: str, headers: dict[str, str]) -> httpx.Response:
        return self.http.post("/slack/events", content=body.encode(),
                              headers={"Content-Type": content_type, **headers})

    def command(self, command: str, text: str = "", *, user: str = "UANA",
                channel: str = "CINC", channel_name: str = "incidents",
                trigger: str | None = None, headers: dict[str, str] | None = None,
                sent_as: str | None = None) -> Sent:
        """`text` is what the person typed; Slack sends it escaped (`sent_as`: the exact
        text Slack sends instead, e.g. with `<@U1|ana>` references)."""
        trigger = trigger or f"trig-{next(self._ids)}"
        body = urlencode({
            "token": "legacy", "team_id": "T1", "team_domain": "test", "channel_id": channel,
            "channel_name": channel_name, "user_id": user, "user_name": user.lower(),
            "command": command, "text": as_slack_sends(text) if sent_as is None else sent_as,
            "api_app_id": "A1", "is_enterprise_install":
            "false", "response_url": self.fake.response_url(trigger), "trigger_id": trigger})
        answer = self.post(body, "application/x-www-form-urlencoded",
                           {**sign(body), **(headers or {})})
        return Sent(answer, trigger)

    def click(self, action_id: str, value: str, *, user: str, channel: str = "CREL",
              channel_name: str = "releases", message_ts: str = "1700000000.000001",
              trigger: str | None = None, headers: dict[str, str] | None = None) -> Sent:
        trigger = trigger or f"click-{next(self._ids)}"
        payload = {
            "type": "block_actions", "api_app_id": "A1", "token": "legacy",
            "team": {"id": "T1", "domain": "test"}, "user": {"id": user, "name": user.lower()},
            "container": {"type": "message", "message_ts": message_ts, "channel_id": channel,
                          "is_ephemeral": False},
            "channel": {"id": channel, "name": channel_name}, "trigger_id": trigger,
            "message": {"type": "message", "ts": message_ts, "text": "", "blocks": []},
            "response_url": self.fake.response_url(trigger),
            "actions": [{"type": "button", "action_id": action_id, "block_id": "b",
                         "value": value, "action_ts": f"{time.time():.6f}"}]}
        body = urlencode({"payload": json.dumps(payload)})
        answer = self.post(body, "application/x-www-form-urlencoded",
                           {**sign(body), **(headers or {})})
        return Sent(answer, trigger)

    def event(self, event: dict[str, Any], event_id: str | None = None,
              headers: dict[str, str] | None = None) -> httpx.Response:
        body = json.dumps({
            "token": "legacy", "team_id": "T1", "api_app_id": "A1", "event": event,
            "type": "event_callback", "event_id": event_id or f"Ev{next(self._ids)}",
            "event_time": int(time.time()),
            "authorizations": [{"team_id": "T1", "user_id": "UBOT", "is_bot": True}]})
        return self.post(body, "application/json", {**sign(body), **(headers or {})})

    # -- waiting ---------------------------------------------------------------------------

    def reply(self, sent: Sent, n: int = 1) -> dict[str, Any]:
        """The n-th response_url post for a request (waits for it)."""
        found: list[dict[str, Any]] = self.fake.wait_for(
            lambda: len(self.fake.responses(sent.trigger)) >= n and
            self.fake.responses(sent.trigger))
        return found[n - 1]

    def idle(self) -> None:
        """Every listener and the background work they handed on have finished, and the
        outbox has delivered what they wrote: what a request was going to do, it has done (so
        asserting that nothing more happened holds)."""
        while True:  # a delivery may hand work on (an alert's investigation), and back
            assert self.rt.wait_idle(LIMIT_S), "listeners or background work did not finish"
            assert self.outbox.wait_idle(LIMIT_S), "the outbox did not deliver what was due"
            if self.rt.wait_idle(0) and self.outbox.wait_idle(0):
                return

    def deliver_due(self) -> None:
        """Have the outbox deliver what is due now (retries the clock has reached), without
        waiting for its poll."""
        self.outbox.nudge()
        assert self.outbox.wait_idle(LIMIT_S), "the outbox did not deliver what was due"

    # -- registry state --------------------------------------------------------------------

    def open_gate(self) -> None:
        """Let the `slow` model's evals (waiting, or still to come) finish."""
        (Path(self.playbook.settings.config_path).parent / GATE).touch()

    def register(self, model: str, prompt: str, parent: Version | None = None,
                 score: float | None = None) -> Version:
        return register(Register.parse(
            model=model, components={"prompt": prompt}, owner="UANA",
            reason=f"try {prompt[:12]}", parent=parent.short if parent else None,
            root=parent is None, scores={"score": score} if score is not None else
            {"score": round(min(1.0, len(prompt) / 100), 4)}, actor="UANA"),
            self.playbook.ctx).version

    def promote_now(self, model: str, version: Version, override: str | None = None) -> None:
        """`override`: why a version production was rolled back from goes out again."""
        promote(Promote.parse(model=model, version=version.short, actor="UANA",
                              override_reason=override), self.playbook.ctx)
        self.idle()  # its announcement is posted before the test goes on

    def bearer(self, name: str) -> dict[str, str]:
        """Headers of an HTTP API client with an admin token whose actor is `name`."""
        from bot.api.access import create_token

        _, secret = create_token(self.playbook.ctx.uow, name=name,
                                 scopes=["admin"], created_by="test", now=self.clock.now(),
                                 make_id=self.playbook.ctx.make_id)
        return {"Authorization": f"Bearer {secret}"}

    def chain(self, model: str = "chat") -> tuple[Version, Version]:
        """Two versions promoted in turn, the second scoring 0.9: a production history."""
        v1 = self.register(model, "x" * 40)
        self.promote_now(model, v1)
        v2 = self.register(model, "x" * 60, v1, score=0.9)
        self.promote_now(model, v2)
        return v1, v2

    def requested(self, model: str = "risky") -> tuple[Version, Version, ApprovalRequest]:
        """A high-stakes model with production, and a pending request (its card posted) to
        promote a better candidate: (production, candidate, request)."""
        old = self.register(model, "p" * 40)
        self.promote_approved(model, old, "UBEN")
        candidate = self.register(model, "p" * 55, old)
        request = promote(Promote.parse(model=model, version=candidate.short, actor="UANA"),
                          self.playbook.ctx).request
        assert request is not None
        self.idle()  # the card is posted
        return old, candidate, request

    def regressed(self, model: str = "chat") -> tuple[Version, Version]:
        """A good version, then a worse one whose CI scores hid it, both promoted in turn."""
        good = self.register(model, "x" * 60)
        self.promote_now(model, good)
        bad = self.register(model, "x" * 20, good, score=0.99)
        self.promote_now(model, bad)
        return good, bad

    def promote_approved(self, model: str, version: Version, *approvers: str) -> None:
        """A high-stakes promotion decided outside Slack (approvers from playbook.toml)."""
        request = promote(Promote.parse(model=model, version=version.short, actor="UANA"),
                          self.playbook.ctx).request
        assert request is not None
        for who in approvers:
            approve(Approve.parse(request_id=request.id, approver=who), self.playbook.ctx)
        self.idle()  # its card is posted and decided before the test goes on

    def production(self, model: str) -> str | None:
        with self.playbook.ctx.uow() as uow:
            tag = uow.tags.get(model, PRODUCTION)
        return tag.version_id if tag else None

    def events(self, model: str) -> int:
        with self.playbook.ctx.uow() as uow:
            return len(uow.events.history(model))


def promoted_twice(config: Path, home: Path, database: str,
                   models: Iterable[str]) -> dict[str, list[Version]]:
    """Two versions of each model, each promoted in turn, written before any server runs."""
    app = bootstrap.build(Settings(migrate=True, config_path=config, home=home,
                                   database_url=database, actor="UANA"))
    made: dict[str, list[Version]] = {}
    try:
        for model in models:
            parent = None
            for n in (40, 60):
                v = register(Register.parse(
                    model=model, components={"prompt": "x" * n}, owner="UANA", reason="r",
                    parent=parent, root=parent is None, scores={"score": n / 100},
                    actor="UANA"), app.ctx).version
                promote(Promote.parse(model=model, version=v.short, actor="UANA"), app.ctx)
                parent = v.short
                made.setdefault(model, []).append(v)
    finally:
        app.close()
    return made


def write_workspace(root: Path) -> Path:
    (root / "playbook.toml").write_text(CONFIG)
    (root / "eval.py").write_text(EVAL)
    (root / "deploy.sh").write_text("kubectl rollout restart deploy/chat\n")
    return root / "playbook.toml"


def workspace_fake(*, start: bool = True) -> FakeSlack:
    """The workspace every test meets: channels, their members, one approver group.
    `start=False`: bound (its URL is known) but not serving yet, so the environment can be
    set before any thread runs (setenv racing a thread's getenv can crash, see
    tests/testkit/faketime.py)."""
    fake = FakeSlack()
    fake.channels = {"incidents": "CINC", "releases": "CREL", "general": "CGEN"}
    fake.members = {"CREL": ["UANA", "UBEN", "UCHO", "UDAN", "UEVE"],
                    "CINC": ["UANA", "UBEN", "UONCALL"]}
    fake.groups = {"SAPPROVERS": ["UBEN", "UCHO", "UFAY"]}
    fake.handles = {"ml-approvers": "SAPPROVERS"}
    return fake.start() if start else fake


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    """`playbook ARGV` in this process, as a user types it: (exit code, stdout, stderr)."""
    from bot.cli.main import main

    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err
