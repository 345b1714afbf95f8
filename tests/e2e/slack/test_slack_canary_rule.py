"""A promotion has the same rules wherever it is typed: a clearly worse canary is refused from
Slack, over HTTP and from the CLI alike, and accepted from each with an override reason that
its event records."""

from __future__ import annotations

import json

import pytest
from slack_harness import Harness

from bot.cli.main import main
from core.domain import Version
from core.events import CanaryOverridden


def _worse_canary(slack: Harness) -> tuple[Version, Version, dict[str, str]]:
    old = slack.register("chat", "x" * 40)
    slack.promote_now("chat", old)
    candidate = slack.register("chat", "x" * 60, old)
    auth = slack.bearer("ci-deploy")
    started = slack.http.post("/v1/models/chat/promote", headers=auth,
                              json={"version": candidate.short, "canary_fraction": 0.05})
    assert started.status_code == 202, started.text
    for version, prefix, errors in ((old, "p", 0), (candidate, "c", 12)):
        records = [{"request_id": f"{prefix}{i}", "model": "chat", "version": version.id,
                    "error": i < errors, "latency_ms": 100.0} for i in range(60)]
        assert slack.http.post("/v1/attributions", json=records, headers=auth).status_code \
            == 200
    return old, candidate, auth


def _promote(slack: Harness, surface: str, version: Version, auth: dict[str, str],
             capsys: pytest.CaptureFixture[str], override: str | None = None) -> str:
    """Ask for the promotion from one surface; answers what the person was told."""
    if surface == "slack":
        text = f"chat {version.short}" + (f" override {override}" if override else "")
        reply = slack.reply(slack.command("/promote", text))
        return str(reply["text"])
    if surface == "http":
        body = {"version": version.short, **({"override_reason": override} if override
                                             else {})}
        answer = slack.http.post("/v1/models/chat/promote", json=body, headers=auth)
        return f"{answer.status_code} {answer.text}"
    settings = slack.playbook.settings
    code = main(["--config", str(settings.config_path), "--database", settings.database_url,
                 "--home", str(settings.home), "--as", "UANA", "promote", "chat",
                 version.short, *(["--override", override] if override else [])])
    out, err = capsys.readouterr()
    return f"{code} {out}{err}"


@pytest.mark.parametrize("surface", ["slack", "http", "cli"])
def test_a_worse_canary_is_refused_everywhere_and_overridden_with_a_reason(
        slack: Harness, surface: str, capsys: pytest.CaptureFixture[str]) -> None:
    old, candidate, auth = _worse_canary(slack)

    refused = _promote(slack, surface, candidate, auth, capsys)
    assert "clearly worse than production" in refused, refused
    slack.idle()
    assert slack.production("chat") == old.id

    told = _promote(slack, surface, candidate, auth, capsys, override="upstream blip, known")
    assert "worse" not in told.split("\n")[0] or surface == "cli", told
    slack.idle()
    assert slack.production("chat") == candidate.id
    with slack.playbook.ctx.uow() as uow:
        ((_, override),) = uow.outbox.events(model="chat", name="CanaryOverridden")
        runs = uow.runs.list(play="promote", limit=1)
    assert isinstance(override, CanaryOverridden)
    assert override.reason == "upstream blip, known" and override.version_id == candidate.id
    assert override.actor == ("UANA" if surface != "http" else "ci-deploy")
    settings = slack.playbook.settings
    assert main(["--config", str(settings.config_path), "--database", settings.database_url,
                 "--home", str(settings.home), "--json", "events", "--name",
                 "CanaryOverridden"]) == 0
    (listed,) = json.loads(capsys.readouterr().out)  # what an auditor reads back
    assert listed["reason"] == "upstream blip, known" and listed["model"] == "chat"
    step = next(s for s in runs[0].steps if s.name == "compare canary with production")
    assert step.output["override_reason"] == "upstream blip, known"
    assert json.dumps(step.output).count("error rate") >= 1
