"""Signed webhooks: `[[webhooks]]` in playbook.toml sends chosen events to an HTTP endpoint.

Each webhook is its own outbox handler (`webhook:NAME`), so one failing endpoint is retried
alone, with the outbox's backoff, and `playbook outbox` is its delivery log. A delivery is
signed the way Slack and GitHub sign theirs: HMAC-SHA256 over `v1:{timestamp}:{body}` with the
webhook's secret, the timestamp and the signature in headers (docs/webhooks.md shows how a
receiver checks them). The secret never sits in playbook.toml: `secret = "env:NAME"` names the
environment variable that holds it.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from core import events

NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
SECRET_REF = re.compile(r"^env:([A-Za-z_][A-Za-z0-9_]*)$")
PREFIX = "webhook:"


class WebhookConfig(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str
    url: str
    events: list[str] = Field(default_factory=lambda: ["TagMoved"])
    secret: str
    models: list[str] | None = None  # None: every model
    timeout_s: float = Field(10.0, gt=0, le=120)

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        if not NAME.match(value):
            raise ValueError("lowercase letters, digits, '-' or '_' (at most 64)")
        return value

    @field_validator("url")
    @classmethod
    def _url(cls, value: str) -> str:
        if not value.startswith(("https://", "http://")):
            raise ValueError("must be an http:// or https:// URL")
        return value

    @field_validator("events")
    @classmethod
    def _events(cls, value: list[str]) -> list[str]:
        unknown = sorted(set(value) - set(events.EVENT_TYPES) - {"*"})
        if unknown or not value:
            raise ValueError(f"unknown event(s) {', '.join(unknown)}; known: "
                             f"{', '.join(sorted(events.EVENT_TYPES))}, or \"*\"" if unknown
                             else "give at least one event, or \"*\" for every one")
        return value

    @field_validator("secret")
    @classmethod
    def _secret(cls, value: str) -> str:
        if not SECRET_REF.match(value):
            raise ValueError('write secret = "env:VARIABLE" and put the secret in that '
                             "environment variable; playbook.toml is no place for secrets")
        return value

    @property
    def handler(self) -> str:
        return PREFIX + self.name

    @property
    def secret_variable(self) -> str:
        found = SECRET_REF.match(self.secret)
        assert found is not None
        return found.group(1)

    def wants(self, event_name: str, model: str | None) -> bool:
        return ("*" in self.events or event_name in self.events) and (
            self.models is None or model is None or model in self.models)


def delivery_id(name: str, payload: dict[str, Any]) -> str:
    """The same for every attempt of one event (receivers dedupe on it)."""
    return hashlib.sha256(f"{name}\n{json.dumps(payload, sort_keys=True)}".encode()
                          ).hexdigest()[:32]


def body_of(event: events.Event) -> tuple[str, bytes]:
    """The delivery's id and JSON body for an event."""
    name = events.name_of(event)
    data = events.to_json(event)
    ident = delivery_id(name, data)
    body = {"id": ident, "event": name, "model": event.model, "data": data}
    return ident, json.dumps(body, separators=(",", ":"), sort_keys=True).encode()


def signature(secret: str, timestamp: str, body: bytes) -> str:
    mac = hmac.new(secret.encode(), b"v1:" + timestamp.encode() + b":" + body, hashlib.sha256)
    return "v1=" + mac.hexdigest()
