"""`/experiment <model> <name> from <version> [prompt "..."] [config k=v ...] [because ...]`:
play 4. Components not named are the parent's (the play's rule, as from the CLI), so a Slack
user changes one thing at a time; the eval suite runs (slow), so the work continues after
the ack."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App, Respond

from bot.slack import names, parse
from bot.slack.blocks.registry import experiment_started
from bot.slack.errors import reports_errors
from bot.slack.runtime import SlackRuntime
from core.commands import StartExperiment
from core.plays import start_experiment

COMMAND = "experiment"


def _start(rt: SlackRuntime, order: parse.ExperimentOrder, actor: str,
           respond: Respond) -> None:
    changes: dict[str, Any] = {"prompt": order.prompt}
    if order.weights is not None:
        changes["weights"] = {"ref": order.weights}
    if order.index is not None:
        changes["index"] = {"ref": order.index}
    cmd = StartExperiment.parse(
        model=order.model, name=order.name, parent=order.parent, owner=actor,
        reason=order.reason, actor=actor, components=changes, config_set=order.config)
    respond(**experiment_started(start_experiment(cmd, rt.ctx), actor),
            response_type="in_channel")


def register(app: App, rt: SlackRuntime) -> None:
    @app.command(names.command(COMMAND))
    @reports_errors
    def experiment_command(ack: Ack, command: dict[str, Any], respond: Respond) -> None:
        ack()
        order = parse.experiment(command.get("text", ""))
        rt.config.model(order.model)
        actor = command["user_id"]
        rt.work.submit(lambda: _start(rt, order, actor, respond), respond)
