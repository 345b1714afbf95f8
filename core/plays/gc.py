"""Play 6, garbage collection: free heavy artifacts nobody can need, keep every record.

A version's artifacts go when its retention has passed, it never served production, and no tag
points at it now (an experiment tag does not count: an experiment lives as long as its retention
window). Metadata, scores, lineage and events are kept forever.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from core.commands import CollectGarbage
from core.domain import EXPERIMENT_PREFIX, PRODUCTION, Version
from core.engine import PlayContext
from core.events import ArtifactsCollected


@dataclass
class GcReport:
    dry_run: bool
    collected: list[Version] = field(default_factory=list)
    bytes_freed: int = 0
    kept: dict[str, int] = field(default_factory=dict)  # why -> how many
    run_id: str = ""


def retention_end(ctx: PlayContext, version: Version) -> datetime:
    if version.expires_at is not None:
        return version.expires_at
    return version.created_at + timedelta(days=ctx.config.model(version.model).retention_days)


def collect_garbage(cmd: CollectGarbage, ctx: PlayContext) -> GcReport:
    report = GcReport(dry_run=cmd.dry_run)
    with ctx.run("gc", cmd.actor, cmd.inputs()) as run:
        if cmd.model is not None:
            ctx.config.model(cmd.model)
        with run.step("find collectable") as out, ctx.uow(read_only=True) as uow:
            now = ctx.clock.now()
            # An experiment tag protects nothing: the experiment's retention window does.
            tagged = {(t.model, t.version_id) for t in uow.tags.list(cmd.model)
                      if not t.name.startswith(EXPERIMENT_PREFIX)}
            candidates: list[Version] = []
            for v in uow.versions.with_live_artifacts(cmd.model):
                if v.model not in ctx.config.models:
                    why = "model no longer declared"
                elif now < retention_end(ctx, v):
                    why = "within retention"
                elif (v.model, v.id) in tagged:
                    why = "a tag points at it"
                elif uow.events.ever_pointed(v.model, PRODUCTION, v.id):
                    why = "served production"
                else:
                    candidates.append(v)
                    continue
                report.kept[why] = report.kept.get(why, 0) + 1
            out.update(candidates=[v.short for v in candidates], kept=dict(report.kept),
                       bytes=sum(v.artifact_bytes for v in candidates))
        if cmd.dry_run:
            run.skip("delete artifacts", "dry run")
            report.collected = candidates
            report.bytes_freed = sum(v.artifact_bytes for v in candidates)
        else:
            with run.step("delete artifacts") as out:
                for v in candidates:
                    # Record first: a crash after this leaves unreferenced blobs, never a
                    # version that claims artifacts it no longer has.
                    with ctx.uow() as uow:
                        at = ctx.clock.now()
                        uow.versions.mark_artifacts_collected(v.model, v.id, at)
                        uow.outbox.add(ArtifactsCollected(model=v.model, version_id=v.id,
                                                          at=at))
                        uow.commit()
                    report.bytes_freed += ctx.artifacts.delete(v.model, v.id)
                    report.collected.append(v)
                out.update(collected=len(report.collected), bytes_freed=report.bytes_freed)
        run.run.result = {"dry_run": cmd.dry_run, "collected": [v.short for v in
                                                                report.collected],
                          "bytes_freed": report.bytes_freed, "kept": report.kept}
        report.run_id = run.id
        return report
