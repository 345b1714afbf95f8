"""Every listener, by kind (commands, actions, events), one small module each.

Listeners are thin: ack, parse, run the play (slow ones in the background pool), render.
Errors are never caught here: they reach `bot.slack.errors.report`, which renders them once.
"""

from __future__ import annotations

from slack_bolt import App

from bot.slack.listeners.actions import approval, investigation_rollback, rehearse_button
from bot.slack.listeners.commands import (
    audit,
    experiment,
    investigate,
    promote,
    registry,
    rehearse,
    rollback,
)
from bot.slack.listeners.events import app_home
from bot.slack.runtime import SlackRuntime

COMMANDS = (rollback, promote, experiment, audit, investigate, rehearse, registry)
ACTIONS = (approval, investigation_rollback, rehearse_button)
EVENTS = (app_home,)


def register_listeners(app: App, rt: SlackRuntime) -> None:
    for module in (*COMMANDS, *ACTIONS, *EVENTS):
        module.register(app, rt)


def slash_commands() -> list[str]:
    """Every slash command the app answers (the manifest must declare each)."""
    return [module.COMMAND for module in COMMANDS]
