"""Request and response bodies, so /docs and /openapi.json describe every route exactly.

Responses mirror core.serialize (the CLI's --json), so a script can switch between the local
CLI and the API without reshaping what it reads.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from core.commands import ComponentsIn


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class Out(BaseModel):
    model_config = ConfigDict(populate_by_name=True)


class ErrorDetail(Out):
    code: str = Field(examples=["INVALID_INPUT"])
    message: str
    hint: str | None = None
    field: str | None = None
    step: str | None = None


class ErrorOut(Out):
    error: ErrorDetail


# --- versions ----------------------------------------------------------------------------------

class RegisterBody(Body):
    components: ComponentsIn
    owner: str = Field(min_length=1)
    reason: str = Field(min_length=1)
    parent: str | None = Field(default=None, description="MODEL@HEX the version changes")
    root: bool = Field(default=False, description="the model's first version")
    scores: dict[str, float] | None = Field(
        default=None, description="eval scores from CI; left out, the model's evaluator runs")


class ArtifactOut(Out):
    name: str
    sha256: str
    size: int


class VersionOut(Out):
    model: str
    id: str
    short: str
    components: dict[str, Any]
    owner: str
    parent: str | None
    reason: str
    scores: dict[str, float]
    eval_source: str
    created_at: str
    kind: str
    experiment: str | None
    expires_at: str | None
    artifacts: list[ArtifactOut]
    artifacts_collected_at: str | None
    tags: list[str] | None = None


class RegisteredOut(VersionOut):
    created: bool
    run: str
    warnings: list[str] = Field(default_factory=list, description=(
        "e.g. a weights or index reference naming a moving target (@main, :latest, a "
        "storage prefix, an MLflow alias) without a sha256"))


class GateOut(Out):
    model: str
    version: str = Field(description="the reference asked about")
    id: str | None
    short: str | None
    registered: bool
    allowed: bool
    reasons: list[str]
    checks: dict[str, Any]
    tags: list[str]


# --- tags ----------------------------------------------------------------------------------------

class ResolvedOut(Out):
    model: str
    tag: str
    version: str = Field(description="the full version id")
    short: str
    revision: int
    moved_at: str
    components: dict[str, Any]
    scores: dict[str, float]


class RouteOut(Out):
    model: str
    production: ResolvedOut | None
    canary: ResolvedOut | None
    canary_fraction: float | None = Field(description="share of traffic for the canary")


# --- records -------------------------------------------------------------------------------------

class EventOut(Out):
    seq: int | None
    model: str
    tag: str
    from_: str | None = Field(alias="from")
    to: str
    revision: int
    actor: str
    approvers: list[str]
    play: str
    reason: str
    at: str


class ApprovalEntry(Out):
    approver: str
    at: str


class ApprovalOut(Out):
    id: str
    model: str
    version: str
    tag: str
    requester: str
    reason: str
    required: int
    status: str
    approvals: list[ApprovalEntry]
    created_at: str
    expires_at: str
    production_at_request: str | None
    decided_by: str | None
    decided_at: str | None
    decision_note: str | None


class IncidentOut(Out):
    id: str
    model: str
    tag: str
    bad_version: str
    restored_version: str
    symptom: str
    opened_by: str
    opened_at: str
    rolled_back_at: str
    time_to_rollback_s: float
    confirmed_at: str | None
    confirmation: str | None
    confirm_scores: dict[str, float]
    rehearsal: bool
    detected_at: str = Field(description="when the trouble was noticed (detected_at given, an "
                                         "alert's start, else when the rollback was ordered)")
    serving_switched_at: str | None = Field(
        description="the first request served by the restored version after the move")
    time_to_serving_s: float | None = Field(
        description="detected to serving switched; the budget applies to this")
    stages: list[dict[str, str | None]] = Field(
        description="detected, decided, tag moved, serving switched, confirmed, in order")


class AttributionOut(Out):
    request_id: str
    model: str
    version: str
    served_at: str
    latency_ms: float | None
    error: bool | None
    feedback: float | None


class AttributedOut(Out):
    received: int
    stored: int
    duplicates: int


class LineageOut(Out):
    version: str
    id: str
    owner: str
    reason: str
    created_at: str


class LineageRootOut(Out):
    version: str
    id: str


class EvalOut(Out):
    scores: dict[str, float]
    source: str


class AuditOut(Out):
    request_id: str
    attribution: AttributionOut
    version: VersionOut
    lineage: list[LineageOut] = Field(
        description="the version and its nearest ancestors, nearest first (`?lineage=`)")
    lineage_depth: int = Field(description="how many ancestors the version has in all")
    lineage_root: LineageRootOut = Field(description="the first version of its lineage")
    lineage_truncated: bool = Field(
        False, description="true when the chain goes on beyond the ancestors listed; "
                           "`?lineage=all` lists all of them")
    eval: EvalOut
    tag_events: list[EventOut]
    approvals: list[ApprovalOut]
    incidents: list[IncidentOut]


class ProductionAtOut(Out):
    model: str
    at: str
    version: VersionOut | None
    event: EventOut | None


# --- plays ---------------------------------------------------------------------------------------

class PromoteBody(Body):
    version: str = Field(min_length=1, description="MODEL@HEX, or a unique hex prefix")
    reason: str = ""
    expected_revision: int | None = Field(
        default=None, ge=0, description="refuse if production is no longer at this revision")
    canary_fraction: float | None = Field(
        default=None, gt=0, lt=1, description="point `canary` at it for this share of "
                                               "traffic instead of moving production now")
    override_reason: str | None = Field(
        default=None, description="why it goes out anyway: a canary found clearly worse, "
                                  "or a version production was rolled back from before "
                                  "(recorded with the move)")


class ArmOut(Out):
    version: str
    n: int
    errors: int
    error_rate: float | None
    latency_p50: float | None
    latency_p95: float | None
    feedback_mean: float | None


class CheckOut(Out):
    signal: str
    canary: float | None
    production: float | None
    worse: bool
    detail: str
    p_value: float | None


class ComparisonOut(Out):
    verdict: Literal["insufficient", "ok", "worse"]
    canary: ArmOut
    production: ArmOut
    reasons: list[str]
    checks: list[CheckOut]


class CanaryOut(Out):
    model: str
    version: str
    short: str
    fraction: float
    started_at: str
    started_by: str
    ended_at: str | None
    active: bool
    comparison: ComparisonOut | None = None


class PromoteOut(Out):
    version: str
    gate: dict[str, Any]
    run: str
    event: EventOut | None = None
    request: ApprovalOut | None = None
    canary: CanaryOut | None = None
    overridden: bool = False
    rolled_back: list[str] = Field(
        default_factory=list,
        description="incidents that rolled production back from this version before; "
                    "promoting it again needs override_reason, which the move records")


class RollbackBody(Body):
    to: str | None = Field(default=None, description="an explicit target version")
    symptom: str = ""
    tag: Literal["production", "rehearsal"] = "production"
    expected_revision: int | None = Field(default=None, ge=0)
    detected_at: datetime | None = Field(
        default=None, description="when the trouble was noticed (ISO 8601 with a zone); "
                                  "time to rollback counts from it")


class RollbackOut(IncidentOut):
    run: str
    event: EventOut


class ApproveBody(Body):
    override_reason: str | None = Field(
        default=None, description="approve a canary found clearly worse anyway, saying why")


class RejectBody(Body):
    reason: str = ""


class DecisionOut(ApprovalOut):
    run: str | None = None
    event: EventOut | None = None
    overridden: bool = False


class HealthOut(Out):
    status: Literal["ok"]
    database: str
    schema_: str = Field(alias="schema", serialization_alias="schema")
    dependencies: dict[str, str] = Field(
        default_factory=dict, description='besides the database, e.g. {"slack": "ok"} or '
        '{"slack": "degraded: cannot reach ..."}: a degraded one does not make this 503, '
        "since the HTTP API still serves")


class LiveOut(Out):
    status: Literal["ok"]


class ServingBody(Body):
    version: str = Field(min_length=1, max_length=200,
                         description="the full version id this process serves now")
    tag: Literal["production", "rehearsal"] = Field(
        default="production", description="the tag it follows: `rehearsal` for a rehearsal "
                                          "follower (rehearsal_follower in playbook.toml)")


class ServingOut(Out):
    incidents: list[str] = Field(description="incidents whose serving switched with this report")
