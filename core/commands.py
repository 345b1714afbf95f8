"""Commands: orders given to the plays, validated on the way in.

A missing or malformed field becomes an InvalidInput naming the field, before anything runs.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Self

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
)

from core.domain import LINEAGE_SHOWN
from core.errors import InvalidInput
from core.identity import ArtifactRef, Components

NonEmpty = Field(min_length=1)
EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
LATEST = datetime(9000, 1, 1, tzinfo=UTC)


def _in_range(at: datetime) -> datetime:
    try:
        utc = at.astimezone(UTC)
    except OverflowError:  # beyond what a datetime holds, once in UTC
        utc = None
    if utc is None or not EARLIEST <= utc < LATEST:
        raise ValueError(f"{at:%Y-%m-%d %H:%M:%S} is out of range (1970 to 8999)")
    return utc


# An instant the registry can store: with a zone, between 1970 and 9000, held in UTC.
Instant = Annotated[AwareDatetime, AfterValidator(_in_range)]


def nul_at(value: Any, path: str = "") -> str | None:
    """The field holding a NUL character (which no database text can hold), if any."""
    if isinstance(value, str):
        return path or "value" if "\x00" in value else None
    if isinstance(value, BaseModel):
        value = value.model_dump()
    if isinstance(value, dict):
        items: Any = value.items()
    elif isinstance(value, (list, tuple)):
        items = enumerate(value)
    else:
        return None
    for key, item in items:
        found = nul_at(key, path) if isinstance(key, str) else None
        found = found or nul_at(item, f"{path}.{key}" if path else str(key))
        if found:
            return found
    return None
EXPERIMENT_NAME = r"^[a-z0-9][a-z0-9._-]{0,39}$"


class Command(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True,
                              allow_inf_nan=False)

    @classmethod
    def parse(cls, **data: Any) -> Self:
        """Build the command or raise InvalidInput naming every bad field."""
        nul = nul_at(data)
        if nul:
            raise InvalidInput(nul, "contains a NUL character (\\x00), which no text field "
                                    "can hold", hint="remove it")
        try:
            return cls.model_validate(data)
        except ValidationError as exc:
            problems = []
            for e in exc.errors():
                field = ".".join(str(p) for p in e["loc"]) or cls.__name__
                msg = str(e["msg"]).removeprefix("Value error, ")
                if e["type"] == "missing" or (e.get("input", "") is None
                                              and e["type"].endswith("_type")):
                    msg = "is required"
                elif e["type"] == "string_too_short" and e.get("ctx", {}).get("min_length") == 1:
                    msg = "is empty"
                elif e["type"] == "timezone_aware":
                    msg = "needs a time zone, e.g. 2026-11-26T09:00:00Z"
                problems.append((field, msg))
            field, msg = problems[0]
            more = "; ".join(f"{f}: {m}" for f, m in problems[1:])
            raise InvalidInput(field, msg + (f"; also {more}" if more else "")) from exc

    def inputs(self) -> dict[str, Any]:
        return self.model_dump(mode="json")


class RefIn(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    ref: str = NonEmpty
    sha256: str | None = Field(default=None, pattern=r"^[0-9a-f]{64}$")


class ComponentsIn(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    weights: RefIn | None = None
    prompt: str | None = None
    config: dict[str, Any] | None = None
    index: RefIn | None = None

    def to_domain(self) -> Components:
        def ref(r: RefIn | None) -> ArtifactRef | None:
            return ArtifactRef(r.ref, r.sha256) if r else None

        return Components(weights=ref(self.weights), prompt=self.prompt, config=self.config,
                          index=ref(self.index))


class Register(Command):
    model: str = NonEmpty
    components: ComponentsIn
    owner: str = NonEmpty
    reason: str = NonEmpty
    parent: str | None = None
    root: bool = False
    scores: dict[str, float] | None = None
    artifacts: tuple[str, ...] = ()
    actor: str = NonEmpty

    @field_validator("scores", mode="before")
    @classmethod
    def _numbers(cls, v: Any) -> Any:
        if isinstance(v, dict):
            for k, x in v.items():
                if isinstance(x, bool):  # JSON true is no score (it would be stored as 1.0)
                    raise ValueError(f"{k} must be a number, not {str(x).lower()}")
        return v

    @field_validator("scores")
    @classmethod
    def _finite(cls, v: dict[str, float] | None) -> dict[str, float] | None:
        if v is not None:
            if not v:
                raise ValueError("give at least one metric=value, or leave scores out "
                                 "to run the evaluator")
            for k, x in v.items():
                if x != x or x in (float("inf"), float("-inf")):
                    raise ValueError(f"{k} must be a finite number")
        return v


class StartExperiment(Register):
    """Components not given are the parent's, so an experiment changes one thing at a time;
    `config_set` sets single (dotted, nested) keys of the parent's config."""

    name: str = Field(pattern=EXPERIMENT_NAME)
    retention_days: int | None = Field(default=None, ge=1)
    config_set: dict[str, Any] = Field(default_factory=dict)


class Promote(Command):
    model: str = NonEmpty
    version: str = NonEmpty
    actor: str = NonEmpty
    reason: str = ""
    expected_revision: int | None = Field(default=None, ge=0)  # refuse if the tag moved since
    channel: str | None = None  # where it was asked for (Slack): its card or announcement
    # goes there when the model names no release channel
    override_reason: str | None = None  # promote although its canary is clearly worse


class Approve(Command):
    request_id: str = NonEmpty
    approver: str = NonEmpty
    override_reason: str | None = None  # approve although the canary is clearly worse


class Reject(Command):
    request_id: str = NonEmpty
    actor: str = NonEmpty
    reason: str = ""


class Rollback(Command):
    model: str = NonEmpty
    actor: str = NonEmpty
    to: str | None = None
    symptom: str = ""
    tag: str = Field(default="production", pattern=r"^(production|rehearsal)$")
    expected_revision: int | None = Field(default=None, ge=0)  # refuse if the tag moved since
    channel: str | None = None  # where it was ordered (Slack): the incident record goes there
    # when the model names no incident channel
    detected_at: Instant | None = None  # when the trouble was noticed (default: now)


class Rehearse(Command):
    """Play 3 as a drill: stage `rehearsal` at production, roll it back, time it."""

    model: str = NonEmpty
    actor: str = NonEmpty
    deploy_fingerprint: str | None = None  # of the model's deploy_path, as the edge read it
    reason: str = "rollback rehearsal"
    channel: str | None = None  # where it was asked for (Slack): its record is posted there


class Audit(Command):
    request_id: str = NonEmpty
    actor: str = NonEmpty
    # How many of the version's lineage to list, nearest first (None: the whole chain).
    lineage: int | None = Field(default=LINEAGE_SHOWN, ge=1)


class ProductionAt(Command):
    model: str = NonEmpty
    at: Instant
    actor: str = NonEmpty


class CollectGarbage(Command):
    actor: str = NonEmpty
    model: str | None = None
    dry_run: bool = False


class Investigate(Command):
    model: str = NonEmpty
    actor: str = NonEmpty
    onset: Instant | None = None
    window_hours: float = Field(default=72.0, gt=0, le=24 * 366 * 10)
    suspect: str | None = None


class AttributionIn(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    request_id: str = Field(min_length=1, max_length=200)
    model: str = NonEmpty
    version: str = NonEmpty
    served_at: Instant | None = None
    latency_ms: float | None = Field(default=None, ge=0)
    error: bool | None = None
    feedback: float | None = None
