"""One play, one outcome: a promotion's card is a consequence of its event, whichever surface
asked for it, and what could not be delivered waits, visible, in `playbook outbox`."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from serve_process import ROOT
from slack_fake_api import FakeSlack
from slack_harness import TOKEN, Harness, run

from bot import bootstrap
from bot.settings import load_settings
from core.handlers import NOTIFY


def _has_buttons(call: Any) -> bool:
    return any(b["type"] == "actions" for b in call.params["blocks"])


def test_a_cli_promotion_gets_its_card_from_the_running_server(slack: Harness) -> None:
    old = slack.register("risky", "p" * 40)
    slack.promote_approved("risky", old, "UBEN")
    candidate = slack.register("risky", "p" * 55, old)
    settings = slack.playbook.settings
    cli = subprocess.run(
        [sys.executable, "-m", "bot.cli.main", "--config", str(settings.config_path),
         "--database", settings.database_url, "--home", str(settings.home), "--as", "UANA",
         "--json", "promote", "risky", candidate.short, "--reason", "from the pipeline"],
        cwd=ROOT, capture_output=True, text=True, timeout=120,
        env={"PATH": "/usr/bin:/bin", "HOME": str(settings.home)})
    assert cli.returncode == 0, cli.stderr
    request_id = json.loads(cli.stdout)["request"]["id"]

    # Another process wrote the event: the server's dispatcher finds it on its next poll.
    card = slack.fake.wait_for(lambda: [c for c in slack.fake.called("chat.postMessage",
                                                                     channel="#releases")
                                        if request_id in json.dumps(c.params["blocks"])])[0]
    slack.idle()  # the delivery that posted it has finished
    assert _has_buttons(card) and "from the pipeline" in json.dumps(card.params["blocks"])
    assert slack.rt.cards.where(request_id) is not None


def test_a_card_superseded_over_http_loses_its_buttons(slack: Harness) -> None:
    old = slack.register("risky", "p" * 40)
    slack.promote_approved("risky", old, "UBEN")
    first = slack.register("risky", "p" * 55, old)
    newer = slack.register("risky", "p" * 70, first)
    reply = slack.reply(slack.command("/promote", f"risky {first.short}", channel="CREL",
                                      channel_name="releases"))
    assert "Approval requested" in reply["text"]
    slack.idle()
    with slack.playbook.ctx.uow() as uow:
        (request,) = uow.approvals.pending("risky")
    where = slack.rt.cards.where(request.id)
    assert where is not None

    answer = slack.http.post("/v1/models/risky/promote", json={"version": newer.short},
                             headers=slack.bearer("ci-deploy"))
    assert answer.status_code == 202, answer.text
    slack.idle()
    (superseded,) = slack.fake.called("chat.update", ts=where[1])
    assert not _has_buttons(superseded)
    assert "Superseded" in json.dumps(superseded.params["blocks"])
    assert answer.json()["request"]["id"] in json.dumps(superseded.params["blocks"])


def test_outbox_lists_what_waits_and_deliver_posts_it_when_no_server_runs(
        workspace: Path, fake: FakeSlack, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    code, out, err = run(capsys, "--json", "register", "risky", "--owner", "UANA",
                         "--reason", "r", "--prompt", "r" * 50, "--root")
    assert code == 0, err
    version = f"risky@{json.loads(out)['id'][:12]}"
    code, out, err = run(capsys, "--json", "promote", "risky", version)
    assert code == 0, err
    request_id = json.loads(out)["request"]["id"]

    code, out, _ = run(capsys, "outbox")
    assert code == 0 and "PromotionRequested" in out and "pending" in out
    code, out, _ = run(capsys, "outbox", "deliver")  # no SLACK_BOT_TOKEN here
    assert code == 0 and "1 wait for a handler" in out and "SLACK_BOT_TOKEN" in out
    assert fake.called("chat.postMessage") == []

    monkeypatch.setenv("SLACK_BOT_TOKEN", TOKEN)
    monkeypatch.setenv("SLACK_API_URL", fake.api_url)
    code, out, err = run(capsys, "--json", "outbox", "deliver")
    assert code == 0, err
    assert json.loads(out) == {"delivered": 1, "retrying": 0, "dead": 0,
                               "waiting_for_a_handler": 0}
    (card,) = fake.called("chat.postMessage", channel="#releases")
    assert request_id in json.dumps(card.params["blocks"])
    code, out, _ = run(capsys, "outbox")
    assert code == 0 and out.startswith("nothing pending or dead (1 done)")

    code, out, _ = run(capsys, "outbox", "deliver")  # delivered once, never twice
    assert "delivered 0" in out and len(fake.called("chat.postMessage")) == 1


def test_a_dead_delivery_is_listed_and_retried(workspace: Path, fake: FakeSlack,
                                               capsys: pytest.CaptureFixture[str],
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    code, out, err = run(capsys, "--json", "register", "risky", "--owner", "UANA",
                         "--reason", "r", "--prompt", "r" * 50, "--root")
    assert code == 0, err
    assert run(capsys, "promote", "risky", f"risky@{json.loads(out)['id'][:12]}")[0] == 0
    app = bootstrap.build(load_settings(migrate=True))
    try:  # the scene: its delivery ran out of tries while the channel did not exist
        with app.ctx.uow() as uow:
            now = app.ctx.clock.now()
            (claimed,) = uow.outbox.claim([NOTIFY], "earlier", now, now, 1)
            uow.outbox.failed(claimed.event_seq, NOTIFY, "earlier", "channel_not_found",
                              None, now)
            uow.commit()
    finally:
        app.close()
    code, out, _ = run(capsys, "--json", "outbox")
    (dead,) = json.loads(out)["deliveries"]
    assert dead["state"] == "dead" and dead["last_error"] == "channel_not_found"
    monkeypatch.setenv("SLACK_BOT_TOKEN", TOKEN)
    monkeypatch.setenv("SLACK_API_URL", fake.api_url)
    assert "delivered 0" in run(capsys, "outbox", "deliver")[1]  # dead stays dead

    code, out, _ = run(capsys, "outbox", "retry", str(dead["event"]))
    assert code == 0 and "1 dead deliveries of event" in out
    assert "delivered 1" in run(capsys, "outbox", "deliver")[1]
    assert len(fake.called("chat.postMessage", channel="#releases")) == 1
