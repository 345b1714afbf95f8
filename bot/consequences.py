"""The handlers of the outbox, bound to this process's ports: what every play's events turn
into here. Shared by `playbook serve` (its dispatcher thread) and `playbook outbox deliver`,
so both deliver the same way.
"""

from __future__ import annotations

from functools import partial

from bot.bootstrap import App
from bot.dispatcher import owner_id
from bot.slack.notifier import SlackNotifier
from bot.slack.runtime import SlackRuntime
from core.handlers import HANDLER_NAMES, NOTIFY, notify
from core.outbox import Dispatcher, Handler


def handlers(runtime: SlackRuntime | None) -> dict[str, Handler]:
    bound: dict[str, Handler] = {}
    if runtime is not None:
        bound[NOTIFY] = partial(notify, notifier=SlackNotifier(runtime))
    return bound


def dispatcher(app: App, runtime: SlackRuntime | None, *, authoritative: bool) -> Dispatcher:
    """`authoritative`: a server closes deliveries to handlers it does not run (Slack is not
    configured) as skipped; the CLI leaves them for a server that has them."""
    bound = handlers(runtime)
    skip = HANDLER_NAMES - bound.keys() if authoritative else frozenset()
    return Dispatcher(app.ctx.uow, bound, app.ctx.clock, owner_id(), skip=skip)
