"""`POST /v1/alerts`: monitoring opens incidents (core/plays/alerts.py).

Takes Prometheus Alertmanager's webhook payload (version 4), Grafana alerting's, or the
generic form (core/alerts.py). Authorised by a bearer token with the `alerts` scope, or, for
tools that cannot send one, by an HMAC-SHA256 of the raw body with the server's
PLAYBOOK_ALERTS_HMAC_SECRET, in `X-Playbook-Signature: sha256=<hex>` (a bare hex digest is
taken too, as Grafana's HMAC option sends it). A payload is all or nothing: an alert naming an
undeclared model, or anything malformed, is refused with 422 and nothing is stored.
"""

# No `from __future__ import annotations`: FastAPI reads the dependencies in the route
# signatures at runtime, and they close over `api`, which string annotations cannot see.

import hashlib
import hmac
import json
from typing import Any

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool

from core.alerts import signals
from core.errors import InvalidInput
from core.plays import alerts

from .context import ApiContext
from .errors import Unauthenticated

SIGNATURE = "x-playbook-signature"


def signed(secret: str | None, body: bytes, header: str | None) -> bool:
    """Whether `header` is the body's HMAC-SHA256 under `secret` (False without either)."""
    if not secret or not header:
        return False
    given = header.strip().removeprefix("sha256=").lower().encode("latin-1")  # as sent
    wanted = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest().encode()
    return hmac.compare_digest(given, wanted)


def router(api: ApiContext) -> APIRouter:
    r = api.router("alerts")
    require = api.require("alerts")

    @r.post("/alerts", status_code=202)
    async def receive(request: Request) -> dict[str, Any]:
        """Open, update or resolve incidents from monitoring's alerts. Answers the ids of the
        incidents opened, updated and resolved, and how many resolved alerts matched none."""
        body = await request.body()
        signature = request.headers.get(SIGNATURE)
        if signature is not None:
            if not signed(api.settings.alerts_hmac_secret, body, signature):
                raise Unauthenticated(
                    "X-Playbook-Signature does not match the body" if
                    api.settings.alerts_hmac_secret else
                    "X-Playbook-Signature sent, but this server has no "
                    "PLAYBOOK_ALERTS_HMAC_SECRET",
                    hint="sign the raw body with HMAC-SHA256 and the shared secret, or send "
                         "a bearer token with the alerts scope")
            who = None
        else:
            who = await require(request, None)
        try:
            payload = json.loads(body.decode("utf-8"))
        except (UnicodeDecodeError, ValueError) as exc:
            raise InvalidInput("body", f"not JSON: {exc}",
                               hint="send the alert payload as JSON; nothing was stored") \
                from exc
        found = signals(payload, api.app.config.alerts.model_label)
        if who is not None:  # a token limited to some models posts alerts of those only
            who.cover(*{s.model for s in found})
        result = await run_in_threadpool(alerts.receive_signals, found, api.app.ctx)
        return result.to_json()

    return r
