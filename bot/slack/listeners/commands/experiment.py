"""`/experiment <model> <name> from <version> [prompt "..."] [config k=v ...] [because ...]`:
play 4. Components not named are the parent's, so a Slack user changes one thing at a time;
the eval suite runs (slow), so the work continues after the ack."""

from __future__ import annotations

import copy
from typing import Any

from slack_bolt import Ack, App, Respond

from bot.slack import parse
from bot.slack.blocks.registry import experiment_started
from bot.slack.errors import reports_errors
from bot.slack.runtime import SlackRuntime
from core.commands import StartExperiment
from core.plays import start_experiment
from core.plays.common import resolve

COMMAND = "/experiment"


def components(parent: dict[str, Any], order: parse.ExperimentOrder) -> dict[str, Any]:
    """The parent's components with the order's changes; `a.b=1` sets a nested config key."""
    out = copy.deepcopy(parent)
    if order.prompt is not None:
        out["prompt"] = order.prompt
    if order.weights is not None:
        out["weights"] = {"ref": order.weights}
    if order.index is not None:
        out["index"] = {"ref": order.index}
    if order.config:
        config = out.get("config") or {}
        for dotted, value in order.config.items():
            *path, last = dotted.split(".")
            node = config
            for key in path:
                child = node.get(key)
                if not isinstance(child, dict):
                    child = node[key] = {}
                node = child
            node[last] = value
        out["config"] = config
    return out


def _start(rt: SlackRuntime, order: parse.ExperimentOrder, actor: str,
           respond: Respond) -> None:
    with rt.ctx.uow() as uow:
        parent = resolve(uow, order.model, order.parent)
    cmd = StartExperiment.parse(
        model=order.model, name=order.name, parent=parent.short, owner=actor,
        reason=order.reason, actor=actor,
        components=components(parent.components.to_json(), order))
    respond(**experiment_started(start_experiment(cmd, rt.ctx), actor),
            response_type="in_channel")


def register(app: App, rt: SlackRuntime) -> None:
    @app.command(COMMAND)
    @reports_errors
    def experiment_command(ack: Ack, command: dict[str, Any], respond: Respond) -> None:
        ack()
        order = parse.experiment(command.get("text", ""))
        rt.config.model(order.model)
        actor = command["user_id"]
        rt.work.submit(lambda: _start(rt, order, actor, respond), respond)
