"""Webhook deliveries: one signed POST per event and webhook (core/webhooks.py says what is
signed and how). A refusal or a failure raises, so the outbox retries that webhook alone with
its backoff and keeps the error (`playbook outbox` shows it); a 2xx answer is done."""

from __future__ import annotations

import time
from collections.abc import Callable
from functools import partial

import httpx

from bot.settings import secret
from core import events
from core.errors import ConfigError, PlaybookError
from core.webhooks import WebhookConfig, body_of, signature

USER_AGENT = "Playbook-Webhooks/1"


class WebhookFailed(PlaybookError):
    code = "WEBHOOK_FAILED"


def post(hook: WebhookConfig, ident: str, name: str, body: bytes,
         now: Callable[[], float] = time.time) -> httpx.Response:
    """POST one signed body; answers the response (raises WebhookFailed unless 2xx)."""
    key = secret(hook.secret_variable)
    if key is None:
        raise ConfigError(f"webhook {hook.name!r}: {hook.secret_variable} is not set",
                          hint="export the webhook's secret in that variable on every "
                               "server and wherever `playbook outbox deliver` runs")
    stamp = str(int(now()))
    headers = {"Content-Type": "application/json", "User-Agent": USER_AGENT,
               "X-Playbook-Event": name, "X-Playbook-Delivery": ident,
               "X-Playbook-Timestamp": stamp,
               "X-Playbook-Signature": signature(key, stamp, body)}
    try:
        answer = httpx.post(hook.url, content=body, headers=headers, timeout=hook.timeout_s)
    except httpx.HTTPError as exc:
        raise WebhookFailed(f"webhook {hook.name!r}: {hook.url} did not answer: "
                            f"{exc or type(exc).__name__}") from exc
    if not answer.is_success:
        raise WebhookFailed(f"webhook {hook.name!r}: {hook.url} answered "
                            f"{answer.status_code}: {answer.text[:200]}")
    return answer


def deliver(event: events.Event, hook: WebhookConfig) -> None:
    ident, body = body_of(event)
    post(hook, ident, events.name_of(event), body)


def handlers(hooks: tuple[WebhookConfig, ...]) -> dict[str, Callable[[events.Event], None]]:
    """One outbox handler per [[webhooks]] table."""
    return {hook.handler: partial(deliver, hook=hook) for hook in hooks}
