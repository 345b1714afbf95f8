"""The handlers of the outbox, bound to this process's ports: what every play's events turn
into here. Shared by `playbook serve` (its dispatcher thread) and `playbook outbox deliver`,
so both deliver the same way; and `digest --print`'s rendering, so that no entry point
imports another.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from functools import partial
from typing import Any

from bot import mirror, webhooks
from bot.bootstrap import App
from bot.dispatcher import owner_id
from bot.slack.notifier import SlackNotifier
from bot.slack.runtime import SlackRuntime
from core.handlers import NOTIFY, notify
from core.outbox import Dispatcher, Handler


def handlers(app: App, runtime: SlackRuntime | None) -> dict[str, Handler]:
    """Slack's when this process has Slack; every [[webhooks]] table's, always."""
    bound: dict[str, Handler] = dict(webhooks.handlers(app.config.webhooks))
    bound.update(mirror.handlers(app))
    if runtime is not None:
        bound[NOTIFY] = partial(notify, notifier=SlackNotifier(runtime))
    return bound


def dispatcher(app: App, runtime: SlackRuntime | None) -> Dispatcher:
    """What this process can deliver; the rest stays pending for a process that can (a
    replica with Slack), or until an operator skips it (`playbook outbox skip notify`)."""
    return Dispatcher(app.ctx.uow, handlers(app, runtime), app.ctx.clock, owner_id(),
                      lease=lease_of(app))


@contextmanager
def for_this_process(app: App) -> Iterator[Dispatcher]:
    """A dispatcher for `playbook outbox deliver`: with Slack when SLACK_BOT_TOKEN is set
    (posting only), leaving what it cannot deliver for a server."""
    runtime = None
    if app.settings.env.slack_bot_token:
        from bot.slack import load_slack_settings
        from bot.slack.app import posting_runtime

        runtime = posting_runtime(app, load_slack_settings(app.settings.env,
                                                           posting_only=True))
    try:
        yield dispatcher(app, runtime)
    finally:
        if runtime is not None:
            runtime.close()


def digest_messages(app: App, channel: str) -> list[dict[str, Any]]:
    """Today's digest for `channel` as the Slack messages it would be (`digest --print`)."""
    from bot.slack import names
    from bot.slack.digest import compose_digest

    names.use(app.settings.env.slack_command_prefix)  # as the posted digest names commands
    return [dict(part) for part in compose_digest(app, channel)[1]]


def lease_of(app: App) -> timedelta:
    """How long a claimed delivery stays with its replica (PLAYBOOK_OUTBOX_LEASE_S): after
    that, if the replica died, another one delivers it. Longer than any handler takes (a
    Slack call with its retries)."""
    return timedelta(seconds=app.settings.env.outbox_lease_s)
