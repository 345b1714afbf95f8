"""The handlers of the outbox, bound to this process's ports: what every play's events turn
into here. Shared by `playbook serve` (its dispatcher thread) and `playbook outbox deliver`,
so both deliver the same way.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from functools import partial

from bot.bootstrap import App
from bot.dispatcher import owner_id
from bot.slack.notifier import SlackNotifier
from bot.slack.runtime import SlackRuntime
from core.errors import ConfigError
from core.handlers import NOTIFY, notify
from core.outbox import LEASE, Dispatcher, Handler

LEASE_ENV = "PLAYBOOK_OUTBOX_LEASE_S"


def handlers(runtime: SlackRuntime | None) -> dict[str, Handler]:
    bound: dict[str, Handler] = {}
    if runtime is not None:
        bound[NOTIFY] = partial(notify, notifier=SlackNotifier(runtime))
    return bound


def dispatcher(app: App, runtime: SlackRuntime | None) -> Dispatcher:
    """What this process can deliver; the rest stays pending for a process that can (a
    replica with Slack), or until an operator skips it (`playbook outbox skip notify`)."""
    return Dispatcher(app.ctx.uow, handlers(runtime), app.ctx.clock, owner_id(),
                      lease=lease_from_env())


@contextmanager
def for_this_process(app: App) -> Iterator[Dispatcher]:
    """A dispatcher for `playbook outbox deliver`: with Slack when SLACK_BOT_TOKEN is set
    (posting only), leaving what it cannot deliver for a server."""
    runtime = None
    if os.environ.get("SLACK_BOT_TOKEN", "").strip():
        from bot.slack import load_slack_settings
        from bot.slack.app import posting_runtime

        runtime = posting_runtime(app, load_slack_settings(posting_only=True))
    try:
        yield dispatcher(app, runtime)
    finally:
        if runtime is not None:
            runtime.close()


def lease_from_env() -> timedelta:
    """How long a claimed delivery stays with its replica: after that, if the replica died,
    another one delivers it. Longer than any handler takes (a Slack call with its retries)."""
    raw = os.environ.get(LEASE_ENV, "").strip()
    if not raw:
        return LEASE
    try:
        seconds = float(raw)
    except ValueError:
        seconds = -1.0
    if not 0 < seconds <= 24 * 3600:
        raise ConfigError(f"{LEASE_ENV}={raw!r} is not a number of seconds above 0",
                          hint=f"e.g. {LEASE_ENV}=120 (the default), or unset it")
    return timedelta(seconds=seconds)
