"""Every listener, by kind (commands, actions, events), one small module each, found by
walking the three packages: a new listener is a new module with `register(app, rt)` (and a
command's `COMMAND`, its name in bot.shared.slack_commands, which the manifest and the help
read), nothing else to edit here. A command registers as the workspace types it
(bot.slack.names: `/pb-rollback` with SLACK_COMMAND_PREFIX=pb-).

Listeners are thin: ack, parse, run the play (slow ones in the background pool), render.
Errors are never caught here: they reach `bot.slack.errors.report`, which renders them once.
"""

from __future__ import annotations

import importlib
import pkgutil
from types import ModuleType

from slack_bolt import App

from bot.slack.names import command
from bot.slack.runtime import SlackRuntime
from bot.slack.typed import decode_command_text

KINDS = ("commands", "actions", "events")


def modules(kind: str) -> list[ModuleType]:
    """The listener modules of one kind, by name."""
    package = importlib.import_module(f"{__name__}.{kind}")
    return [importlib.import_module(f"{package.__name__}.{m.name}")
            for m in sorted(pkgutil.iter_modules(package.__path__), key=lambda m: m.name)
            if not m.name.startswith("_")]


def register_listeners(app: App, rt: SlackRuntime) -> None:
    app.use(decode_command_text)  # every listener reads slash-command text as typed
    for kind in KINDS:
        for module in modules(kind):
            module.register(app, rt)


def slash_commands() -> list[str]:
    """Every slash command the app answers, as typed (the manifest must declare each)."""
    return [command(str(module.COMMAND)) for module in modules("commands")]
