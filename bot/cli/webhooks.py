"""`playbook webhooks`: the [[webhooks]] of playbook.toml with their deliveries, and `webhooks
test NAME`, which sends a signed `ping` at once and says what the endpoint answered. Each
delivery of a real event is in `playbook outbox` under its handler, `webhook:NAME`."""

from __future__ import annotations

import argparse
import json
import secrets
import time
from datetime import UTC, datetime

from bot.bootstrap import App
from bot.settings import secret
from bot.shared.render import Out, table
from bot.webhooks import post
from core import queries
from core.errors import ConfigError
from core.webhooks import WebhookConfig


def _hook(app: App, name: str) -> WebhookConfig:
    for hook in app.config.webhooks:
        if hook.name == name:
            return hook
    names = ", ".join(h.name for h in app.config.webhooks) or "none"
    raise ConfigError(f"no webhook {name!r} in {app.config.path or 'playbook.toml'} "
                      f"(declared: {names})", hint="add a [[webhooks]] table: docs/webhooks.md")


def cmd_list(args: argparse.Namespace, app: App) -> Out:
    counts = queries.outbox_counts(app.ctx)
    data, rows = [], []
    for hook in app.config.webhooks:
        states = {s: counts.get((hook.handler, s), 0) for s in ("pending", "done", "dead")}
        ready = secret(hook.secret_variable) is not None
        data.append({"name": hook.name, "url": hook.url, "events": hook.events,
                     "models": hook.models, "secret_variable": hook.secret_variable,
                     "secret_set": ready, "deliveries": states})
        rows.append([hook.name, hook.url, ",".join(hook.events),
                     ",".join(hook.models) if hook.models else "all",
                     hook.secret_variable + ("" if ready else " (unset)"),
                     states["pending"], states["done"], states["dead"]])
    text = table(["webhook", "url", "events", "models", "secret", "pending", "done", "dead"],
                 rows) if rows else "no [[webhooks]] in playbook.toml (docs/webhooks.md)"
    return Out(data, text)


def cmd_test(args: argparse.Namespace, app: App) -> Out:
    hook = _hook(app, args.name)
    ident = secrets.token_hex(16)
    body = json.dumps({"id": ident, "event": "ping", "model": None,
                       "data": {"webhook": hook.name,
                                "sent_at": datetime.now(UTC).isoformat()}},
                      separators=(",", ":"), sort_keys=True).encode()
    started = time.perf_counter()
    answer = post(hook, ident, "ping", body)
    ms = round((time.perf_counter() - started) * 1000, 1)
    return Out({"webhook": hook.name, "status": answer.status_code, "ms": ms, "id": ident},
               f"{hook.url} answered {answer.status_code} in {ms} ms to a signed ping")
