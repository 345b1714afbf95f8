"""Monitoring alerts as Playbook reads them: Prometheus Alertmanager's webhook (version 4),
Grafana alerting's webhook, and a small generic form, each turned into `AlertSignal`s.

Alertmanager and Grafana send a group of alerts per notification, each with its labels,
annotations, `startsAt` and a `fingerprint` that stays the same while the alert is the same;
the model is the value of one label (`[alerts] model_label`, default `model`). The generic
form is for anything else that can POST JSON:

    {"model": "chat", "name": "AnswerQualityLow", "status": "firing",
     "started_at": "2026-12-06T10:00:00Z", "summary": "...", "url": "...",
     "fingerprint": "optional; default: model and name"}

or `{"alerts": [<that>, ...]}`. Unknown fields in Alertmanager's and Grafana's payloads are
ignored (both add fields over time); the generic form refuses them, as every Playbook input.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from core.commands import Instant
from core.errors import InvalidInput

Status = Literal["firing", "resolved"]
ZERO_TIME = datetime(1, 1, 1).year  # Alertmanager's "no end yet": 0001-01-01T00:00:00Z


@dataclass(frozen=True)
class AlertSignal:
    source: str  # alertmanager | grafana | generic
    fingerprint: str
    model: str
    name: str
    status: Status
    started_at: datetime | None
    summary: str
    url: str | None


class _Loose(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class _Alert(_Loose):
    status: Status
    labels: dict[str, str] = Field(default_factory=dict)
    annotations: dict[str, str] = Field(default_factory=dict)
    startsAt: Instant | None = None
    generatorURL: str | None = None
    fingerprint: str | None = Field(default=None, max_length=200)


class _Group(_Loose):
    alerts: list[_Alert] = Field(min_length=1, max_length=1000)


class _Generic(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    model: str = Field(min_length=1, max_length=64)
    name: str = Field(min_length=1, max_length=200)
    status: Status = "firing"
    started_at: Instant | None = None
    summary: str = Field(default="", max_length=3000)
    url: str | None = Field(default=None, max_length=2000)
    fingerprint: str | None = Field(default=None, min_length=1, max_length=200)


class _GenericGroup(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    alerts: list[_Generic] = Field(min_length=1, max_length=1000)


def source_of(payload: Any) -> str:
    """Which of the three forms a payload is (InvalidInput when none)."""
    if not isinstance(payload, dict):
        raise InvalidInput("body", "must be a JSON object",
                           hint="send Alertmanager's or Grafana's webhook payload, or "
                                '{"model": ..., "name": ..., "status": "firing"}')
    if "orgId" in payload or ("state" in payload and "title" in payload):
        return "grafana"
    if "groupKey" in payload or "receiver" in payload:
        version = payload.get("version")
        if version != "4":
            raise InvalidInput("version", f"Alertmanager webhook version {version!r} is not "
                               "read; Playbook reads version \"4\"",
                               hint="Alertmanager 0.x has sent version 4 since 2017; upgrade "
                                    "it, or send the generic form")
        return "alertmanager"
    return "generic"


def _where(prefix: str, exc: ValidationError) -> tuple[str, str]:
    e = exc.errors()[0]
    path = prefix + "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in e["loc"])
    return path.lstrip("."), str(e["msg"])


def signals(payload: Any, model_label: str = "model") -> list[AlertSignal]:
    """Every alert of the payload, or InvalidInput naming the first thing wrong."""
    source = source_of(payload)
    if source == "generic":
        return _generic(payload)
    try:
        group = _Group.model_validate(payload)
    except ValidationError as exc:
        raise InvalidInput(*_where("", exc), hint=f"a {source} webhook payload has alerts: "
                           "[{status, labels, annotations, startsAt, fingerprint}]") from exc
    found = []
    for i, alert in enumerate(group.alerts):
        model = alert.labels.get(model_label)
        if not model:
            raise InvalidInput(f"alerts[{i}].labels.{model_label}",
                               f"names no model (the alert's labels: "
                               f"{', '.join(sorted(alert.labels)) or 'none'})",
                               hint=f"add a {model_label} label to the alert rule, or set "
                                    "[alerts] model_label in playbook.toml to the label that "
                                    "names the model")
        name = alert.labels.get("alertname") or alert.labels.get("__alert_rule_title__") \
            or "alert"
        summary = alert.annotations.get("summary") or alert.annotations.get("description") \
            or ""
        fingerprint = alert.fingerprint or _fingerprint(model, name, alert.labels)
        started = alert.startsAt if alert.startsAt and alert.startsAt.year > ZERO_TIME \
            else None
        found.append(AlertSignal(source, fingerprint, model, name, alert.status, started,
                                 summary, alert.generatorURL or None))
    return found


def _generic(payload: dict[str, Any]) -> list[AlertSignal]:
    try:
        items = (_GenericGroup.model_validate(payload).alerts if "alerts" in payload
                 else [_Generic.model_validate(payload)])
    except ValidationError as exc:
        raise InvalidInput(*_where("", exc), hint='the generic form is {"model": ..., '
                           '"name": ..., "status": "firing" | "resolved"} (or a list of them '
                           'under "alerts"); see docs/alerts.md') from exc
    return [AlertSignal("generic", a.fingerprint or _fingerprint(a.model, a.name, {}),
                        a.model, a.name, a.status, a.started_at, a.summary, a.url)
            for a in items]


def _fingerprint(model: str, name: str, labels: dict[str, str]) -> str:
    text = "\x00".join([model, name, *(f"{k}={v}" for k, v in sorted(labels.items()))])
    return hashlib.sha256(text.encode()).hexdigest()[:16]
