"""playbook.toml: which models exist and the policy each one is run under.

Validated with pydantic; every bad key is reported with its path (`models.chat.stakes: ...`).
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from core.canary import Thresholds
from core.errors import ConfigError
from core.schedule import ScheduleConfig
from core.webhooks import WebhookConfig

MODEL_NAME = re.compile(r"^[a-z0-9][a-z0-9._-]{0,63}$")
Stakes = Literal["low", "high", "regulated"]


class _Strict(BaseModel):
    """Numbers are finite and never booleans (TOML's `true` is no 1.0)."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    @field_validator("*", mode="before")
    @classmethod
    def _no_bool_numbers(cls, value: Any, info: ValidationInfo) -> Any:
        annotation = cls.model_fields[str(info.field_name)].annotation
        wants_number = any(t in (int, float)
                           for t in (annotation, *getattr(annotation, "__args__", ())))
        if isinstance(value, bool) and wants_number:
            raise ValueError(f"must be a number, not {str(value).lower()}")
        return value


class EvaluatorSpec(_Strict):
    """Where the eval suite runs: an HTTP service or a local command."""

    http: str | None = None
    command: str | None = None
    timeout_s: float = Field(default=60.0, gt=0, le=3600)

    @model_validator(mode="after")
    def _exactly_one(self) -> EvaluatorSpec:
        if (self.http is None) == (self.command is None):
            raise ValueError('give exactly one of http = "URL" or command = "..."')
        if self.http is not None and not re.match(r"^https?://", self.http):
            raise ValueError("http must be an http:// or https:// URL")
        return self


class MirrorSpec(_Strict):
    """Where serving already looks: every move of production and canary is mirrored there
    (core/mirror.py). Today: an MLflow registered model's aliases."""

    mlflow: str
    name: str = Field(min_length=1, max_length=256)  # the registered model in MLflow

    @field_validator("mlflow")
    @classmethod
    def _url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("mlflow must be the tracking server's http:// or https:// URL")
        return value.rstrip("/")


class CanarySpec(_Strict):
    """When a canary counts as clearly worse than production (play 2, step 2)."""

    min_sample: int = Field(default=200, ge=2, le=10_000_000)  # records per arm first
    alpha: float = Field(default=0.01, gt=0, lt=1)  # one-sided significance for "worse"
    latency_tolerance: float = Field(default=0.2, ge=0, le=100)  # p95 over production's

    def thresholds(self) -> Thresholds:
        return Thresholds(min_sample=self.min_sample, alpha=self.alpha,
                          latency_tolerance=self.latency_tolerance)


class _PolicyFields(_Strict):
    stakes: Stakes = "low"
    owner: str | None = None
    approvers: tuple[str, ...] = ()
    approver_group: str | None = None
    release_channel: str | None = None
    incident_channel: str | None = None
    metric: str = "score"
    higher_is_better: bool = True
    min_score: float | None = None
    evaluator: EvaluatorSpec | None = None
    experiment_retention_days: int = Field(default=14, ge=1, le=3660)
    retention_days: int = Field(default=90, ge=1, le=36600)
    rehearsal_every_days: int = Field(default=90, ge=1, le=3660)
    max_time_to_rollback_s: float = Field(default=300.0, gt=0, le=86400)
    deploy_path: str | None = None  # how a version reaches serving; a change calls a rehearsal
    # A serving client follows this model's `rehearsal` tag (playbook_client.TagFollower):
    # a rehearsal then counts until it has switched, and fails if it never does.
    rehearsal_follower: bool = False
    approval_ttl_hours: float = Field(default=24.0, gt=0, le=24 * 366)
    regression_tolerance: float = Field(default=0.0, ge=0)
    # Requests in one day served by a version no tag pointed at, before the incident channel
    # is told (0: never told; the digest counts them anyway).
    outside_registry_alert: int = Field(default=100, ge=0, le=10**9)
    canary: CanarySpec = CanarySpec()
    require_digest: bool | None = None  # None: only for regulated models (core/refs.py)
    mirror: MirrorSpec | None = None


class ModelPolicy(_PolicyFields):
    name: str

    @model_validator(mode="after")
    def _approvers_for_stakes(self) -> ModelPolicy:
        if self.stakes != "low" and not self.approvers and not self.approver_group:
            raise ValueError(
                f"stakes = {self.stakes!r} needs approvers = [...] or approver_group")
        doubled = sorted({a for a in self.approvers if self.approvers.count(a) > 1})
        if doubled:
            raise ValueError(f"approvers lists {', '.join(doubled)} more than once; each "
                             "approver counts once")
        needed = 2 if self.stakes == "regulated" else 1
        if self.approvers and not self.approver_group and len(self.approvers) < needed:
            raise ValueError(f"stakes = {self.stakes!r} needs at least {needed} approvers "
                             "besides the requester; list more")
        return self

    @property
    def digests_required(self) -> bool:
        return self.require_digest if self.require_digest is not None \
            else self.stakes == "regulated"

    @property
    def required_approvals(self) -> int:
        return {"low": 0, "high": 1, "regulated": 2}[self.stakes]

    def passes(self, scores: dict[str, float]) -> bool:
        """Whether an eval result clears this model's bar (metric present, min_score met)."""
        score = scores.get(self.metric)
        if score is None:
            return False
        if self.min_score is None:
            return True
        return score >= self.min_score if self.higher_is_better else score <= self.min_score

    def at_least_as_good(self, candidate: float, baseline: float) -> bool:
        return candidate >= baseline if self.higher_is_better else candidate <= baseline


class AlertsConfig(_Strict):
    """`[alerts]`: how `POST /v1/alerts` reads monitoring's alerts (core/alerts.py)."""

    model_label: str = Field(default="model", min_length=1, max_length=100)
    # An alert that fires again within this long of resolving reopens its incident (its card
    # is updated in place) instead of opening another.
    flap_minutes: int = Field(default=60, ge=0, le=7 * 24 * 60)


class PlaybookConfig(BaseModel):
    model_config = ConfigDict(frozen=True)

    models: dict[str, ModelPolicy]
    path: str | None = None
    schedule: ScheduleConfig = ScheduleConfig()
    webhooks: tuple[WebhookConfig, ...] = ()
    alerts: AlertsConfig = AlertsConfig()

    def channel_refs(self) -> list[str]:
        """Every channel the config names (release, incident, digest), first mention first."""
        refs: dict[str, str] = {}
        for policy in self.models.values():
            for ref in (policy.release_channel, policy.incident_channel):
                if ref:
                    refs.setdefault(ref.lstrip("#").lower(), ref)
        for digest in self.schedule.digest:
            refs.setdefault(digest.channel.lstrip("#").lower(), digest.channel)
        return list(refs.values())

    def digest_models(self, channel: str) -> list[str]:
        """The models the digest of `channel` covers (every model when it names none)."""
        digest = self.schedule.digest_for(channel)
        if digest is None or digest.models is None:
            return sorted(self.models)
        return list(dict.fromkeys(digest.models))  # each model once

    def model(self, name: str) -> ModelPolicy:
        policy = self.models.get(name)
        if policy is None:
            declared = ", ".join(sorted(self.models)) or "none"
            where = self.path or "playbook.toml"
            raise ConfigError(
                f"model {name!r} is not declared in {where} (declared: {declared})",
                hint=f"add a [models.{name}] table with at least metric = \"...\"; "
                     "`playbook init` writes a starter file")
        return policy


def _loc(loc: tuple[Any, ...]) -> str:
    return ".".join(str(p) for p in loc)


PLAIN = {  # pydantic's error types, said as a playbook.toml author would
    "tuple_type": "must be a list, e.g. [\"U0ANA\", \"U0BEN\"]",
    "list_type": "must be a list, e.g. [\"chat\"]",
    "extra_forbidden": "is not a key Playbook knows (a typo?)",
    "int_type": "must be a whole number", "int_parsing": "must be a whole number",
    "int_from_float": "must be a whole number",
    "float_type": "must be a number", "float_parsing": "must be a number",
    "bool_type": "must be true or false", "bool_parsing": "must be true or false",
    "dict_type": "must be a table, e.g. { key = value }",
    "model_type": "must be a table, e.g. { key = value }",
    "model_attributes_type": "must be a table, e.g. { key = value }",
    "string_type": "must be text, in quotes",
    "missing": "is required",
}


def _says(e: Any) -> str:
    """One pydantic error in plain words (no Python or class names)."""
    if e["type"] in PLAIN:
        return PLAIN[e["type"]]
    if e["type"] == "literal_error":
        return "must be " + str(e.get("ctx", {}).get("expected", "one of the listed values"))
    msg = str(e["msg"]).removeprefix("Value error, ")
    return msg.replace("Input should be", "must be", 1)


def parse_config(data: dict[str, Any], path: str | None = None) -> PlaybookConfig:
    """Validate the TOML document; report every problem at once, with its key path."""
    problems: list[str] = []
    unknown = sorted(set(data) - {"defaults", "models", "schedule", "webhooks", "alerts"})
    problems += [f"{k}: unknown top-level table (expected defaults, models, schedule, "
                 "webhooks, alerts)" for k in unknown]
    defaults = data.get("defaults", {})
    if not isinstance(defaults, dict):
        problems.append("defaults: must be a table")
        defaults = {}
    bad_defaults: set[Any] = set()  # reported once, under defaults, not again per model
    try:
        _PolicyFields.model_validate(defaults)
    except ValidationError as exc:
        problems += [f"defaults.{_loc(e['loc'])}: {_says(e)}" for e in exc.errors()]
        bad_defaults = {e["loc"][0] for e in exc.errors() if e["loc"]}
    raw_models = data.get("models", {})
    if not isinstance(raw_models, dict):
        problems.append("models: must be a table of [models.NAME] tables")
        raw_models = {}
    models: dict[str, ModelPolicy] = {}
    for name, table in raw_models.items():
        if not MODEL_NAME.match(name):
            problems.append(f"models.{name}: a model name is lowercase letters, digits, "
                            "'.', '_' or '-' (at most 64)")
            continue
        if not isinstance(table, dict):
            problems.append(f"models.{name}: must be a table")
            continue
        merged = {**defaults, **table, "name": name}
        if isinstance(defaults.get("canary"), dict) and isinstance(table.get("canary"), dict):
            merged["canary"] = {**defaults["canary"], **table["canary"]}  # key by key
        try:
            models[name] = ModelPolicy.model_validate(merged)
        except ValidationError as exc:
            for e in exc.errors():
                if e["loc"] and e["loc"][0] in bad_defaults and e["loc"][0] not in table:
                    continue
                key = _loc(e["loc"])
                msg = _says(e)
                problems.append(f"models.{name}{'.' + key if key else ''}: {msg}")
    schedule = _schedule(data.get("schedule", {}), set(raw_models), problems)
    hooks = _webhooks(data.get("webhooks", []), set(raw_models), problems)
    alerts = AlertsConfig()
    try:
        alerts = AlertsConfig.model_validate(data.get("alerts", {}))
    except ValidationError as exc:
        problems += [f"alerts.{_loc(e['loc'])}: {_says(e)}" for e in exc.errors()]
    if problems:
        raise ConfigError(f"{path or 'playbook.toml'} is not valid:", problems=problems,
                          hint="fix the keys listed; `playbook init --print` shows every key")
    assert schedule is not None
    return PlaybookConfig(models=models, path=path, schedule=schedule, webhooks=hooks,
                          alerts=alerts)


def _webhooks(raw: Any, declared: set[str], problems: list[str]) -> tuple[WebhookConfig, ...]:
    if not isinstance(raw, list):
        problems.append("webhooks: must be [[webhooks]] tables")
        return ()
    found: list[WebhookConfig] = []
    for i, table in enumerate(raw):
        try:
            hook = WebhookConfig.model_validate(table)
        except ValidationError as exc:
            problems += [f"webhooks.{i}.{_loc(e['loc'])}: {_says(e)}" for e in exc.errors()]
            continue
        for model in hook.models or []:
            if model not in declared:
                problems.append(f"webhooks.{i}.models: {model!r} is not a declared model")
        if any(h.name == hook.name for h in found):
            problems.append(f"webhooks.{i}.name: {hook.name!r} is used twice")
        found.append(hook)
    return tuple(found)


def _schedule(raw: Any, declared: set[str], problems: list[str]) -> ScheduleConfig | None:
    if not isinstance(raw, dict):
        problems.append("schedule: must be a table")
        return None
    digests = raw.get("digest")
    for i, digest in enumerate(digests if isinstance(digests, list) else []):
        names = digest.get("models") if isinstance(digest, dict) else None
        for name in names if isinstance(names, list) else []:
            if isinstance(name, str) and name not in declared:
                problems.append(f"schedule.digest.{i}.models: {name!r} is not a declared "
                                "model")
    try:
        return ScheduleConfig.model_validate(raw)
    except ValidationError as exc:
        for e in exc.errors():
            problems.append(f"schedule.{_loc(e['loc'])}: {_says(e)}")
        return None


def load_config(path: str | Path) -> PlaybookConfig:
    p = Path(path)
    if not p.exists():
        raise ConfigError(f"no config file at {p}",
                          hint="run `playbook init` to write a starter playbook.toml, "
                               "or point --config / PLAYBOOK_CONFIG at yours")
    try:
        data = tomllib.loads(p.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{p} is not valid TOML: {exc}",
                          hint="check the quoting and brackets on that line") from exc
    except RecursionError as exc:
        raise ConfigError(f"{p} nests tables or arrays too deeply to read",
                          hint="playbook.toml needs a few levels at most; see "
                               "`playbook init --print`") from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read {p}: {exc}") from exc
    return parse_config(data, str(p))
