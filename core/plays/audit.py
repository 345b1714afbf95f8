"""Play 5, audit: which version made this decision, and everything about it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from core import serialize
from core.commands import Audit, ProductionAt
from core.domain import PRODUCTION, TagMoved, Version
from core.engine import PlayContext
from core.errors import NotFound
from core.ports import UnitOfWork

MAX_LINEAGE = 10_000


def lineage(uow: UnitOfWork, version: Version) -> tuple[list[Version], bool]:
    """The version, its parent, and so on up to the root, read in one query: (the chain,
    whether it goes on beyond MAX_LINEAGE, which the answer then says; never a silent cut).
    A parent that is not registered ends the chain, and so does one already in it."""
    found = uow.versions.lineage(version.model, version.id, MAX_LINEAGE + 1) or [version]
    chain: list[Version] = []
    seen: set[str] = set()
    for v in found:
        if v.id in seen:
            return chain, False
        chain.append(v)
        seen.add(v.id)
    return chain[:MAX_LINEAGE], len(chain) > MAX_LINEAGE


def bundle(uow: UnitOfWork, version: Version) -> dict[str, Any]:
    """The full record of one version: enough to explain and reproduce what it did."""
    chain, truncated = lineage(uow, version)
    return {
        "version": serialize.version(version),
        "lineage": [{"version": v.short, "id": v.id, "owner": v.owner, "reason": v.reason,
                     "created_at": serialize.ts(v.created_at)} for v in chain],
        "lineage_truncated": truncated,
        "eval": {"scores": version.scores, "source": version.eval_source},
        "tag_events": [serialize.event(e) for e in uow.events.touching(version.model,
                                                                       version.id)],
        "approvals": [serialize.approval(r) for r in uow.approvals.for_version(
            version.model, version.id)],
        "incidents": [serialize.incident(i) for i in uow.incidents.for_version(
            version.model, version.id)],
    }


@dataclass(frozen=True)
class AuditBundle:
    request_id: str
    attribution: dict[str, Any]
    record: dict[str, Any]
    run_id: str

    def to_json(self) -> dict[str, Any]:
        return {"request_id": self.request_id, "attribution": self.attribution, **self.record}


def audit(cmd: Audit, ctx: PlayContext) -> AuditBundle:
    with ctx.run("audit", cmd.actor, cmd.inputs(), record_start=False) as run:
        with run.step("find attribution") as out, ctx.uow() as uow:
            record = uow.attributions.get(cmd.request_id)
            if record is None:
                raise NotFound(
                    f"no attribution record for request {cmd.request_id!r}: the version that "
                    "served it cannot be named",
                    hint="serving code must report attributions (`playbook attribute`); "
                         "check the request id")
            out.update(model=record.model, version=record.version_id)
        with run.step("assemble bundle") as out, ctx.uow() as uow:
            version = uow.versions.get(record.model, record.version_id)
            if version is None:
                raise NotFound(f"request {cmd.request_id} names version "
                               f"{record.version_id[:12]}, which is not registered")
            data = bundle(uow, version)
            out.update(lineage=len(data["lineage"]), events=len(data["tag_events"]))
        run.run.result = {"request_id": cmd.request_id, "version": version.short}
        return AuditBundle(cmd.request_id, serialize.attribution(record), data, run.id)


@dataclass(frozen=True)
class ProductionThen:
    model: str
    at: datetime
    version: Version | None
    event: TagMoved | None


def production_at(cmd: ProductionAt, ctx: PlayContext) -> ProductionThen:
    """Replays the event log up to `at`: what production pointed at then."""
    with ctx.run("audit", cmd.actor, cmd.inputs(), record_start=False) as run:
        ctx.config.model(cmd.model)
        with run.step("replay events") as out, ctx.uow() as uow:
            last = uow.events.history(cmd.model, PRODUCTION, until=cmd.at, limit=1,
                                      newest_first=True)
            event = last[0] if last else None
            version = uow.versions.get(cmd.model, event.to_version) if event else None
            out.update(version=version.short if version else None)
        run.run.result = {"model": cmd.model, "at": cmd.at.isoformat(),
                          "version": version.short if version else None}
        return ProductionThen(cmd.model, cmd.at, version, event)
