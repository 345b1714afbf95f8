"""Play 5, audit: which version made this decision, and everything about it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from core import serialize
from core.commands import Audit, ProductionAt
from core.domain import LINEAGE_SHOWN, PRODUCTION, TagMoved, Version
from core.engine import PlayContext
from core.errors import NotFound
from core.identity import short
from core.ports import UnitOfWork


def lineage(uow: UnitOfWork, version: Version, limit: int | None) -> dict[str, Any]:
    """The version and its nearest ancestors (at most `limit`; all when None) in one query,
    with the whole chain's depth and root, so a short answer still says how far it goes."""
    chain = uow.versions.ancestry(version.model, version.id, limit)
    depth = chain[0].depth if chain else 0
    root = chain[0].root_id if chain else version.id
    return {
        "lineage": [{"version": a.short, "id": a.id, "owner": a.owner, "reason": a.reason,
                     "created_at": serialize.ts(a.created_at)} for a in chain],
        "lineage_depth": depth,
        "lineage_root": {"version": short(version.model, root), "id": root},
        "lineage_truncated": len(chain) < depth + 1,
    }


def bundle(uow: UnitOfWork, version: Version,
           lineage_limit: int | None = LINEAGE_SHOWN) -> dict[str, Any]:
    """The full record of one version: enough to explain and reproduce what it did. A fixed
    number of queries, whatever the depth of its lineage or the size of the history."""
    return {
        "version": serialize.version(version),
        **lineage(uow, version, lineage_limit),
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
        with ctx.uow(read_only=True) as uow:  # one snapshot: the record and its version
            with run.step("find attribution") as out:
                record = uow.attributions.get(cmd.request_id)
                if record is None:
                    raise NotFound(
                        f"no attribution record for request {cmd.request_id!r}: the version "
                        "that served it cannot be named",
                        hint="serving code must report attributions (`playbook attribute`); "
                             "check the request id")
                out.update(model=record.model, version=record.version_id)
            with run.step("assemble bundle") as out:
                version = uow.versions.get(record.model, record.version_id)
                if version is None:
                    raise NotFound(f"request {cmd.request_id} names version "
                                   f"{record.version_id[:12]}, which is not registered")
                data = bundle(uow, version, cmd.lineage)
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
        with run.step("replay events") as out, ctx.uow(read_only=True) as uow:
            last = uow.events.history(cmd.model, PRODUCTION, until=cmd.at, limit=1,
                                      newest_first=True)
            event = last[0] if last else None
            version = uow.versions.get(cmd.model, event.to_version) if event else None
            out.update(version=version.short if version else None)
        run.run.result = {"model": cmd.model, "at": cmd.at.isoformat(),
                          "version": version.short if version else None}
        return ProductionThen(cmd.model, cmd.at, version, event)
