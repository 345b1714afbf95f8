"""Play 1, register: every behaviour-affecting change gets an immutable, content-derived id."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import timedelta
from pathlib import Path

from core.commands import Register, StartExperiment
from core.domain import Artifact, Version
from core.engine import PlayContext, RunRecorder
from core.errors import AlreadyExists, InvalidInput
from core.events import VersionRegistered
from core.identity import short, version_id
from core.plays.common import resolve, run_eval


@dataclass(frozen=True)
class Registered:
    version: Version
    created: bool
    run_id: str


def register(cmd: Register, ctx: PlayContext) -> Registered:
    with ctx.run("register", cmd.actor, cmd.inputs()) as run:
        version, created = register_steps(cmd, ctx, run)
        run.run.result = {"version": version.short, "created": created}
        return Registered(version, created, run.id)


def register_steps(cmd: Register, ctx: PlayContext, run: RunRecorder, *,
                   kind: str = "release") -> tuple[Version, bool]:
    """The steps of play 1, shared with play 4 (an experiment registers its version first)."""
    policy = ctx.config.model(cmd.model)
    with run.step("identify") as out:
        components = cmd.components.to_domain()
        vid = version_id(components)
        out["version"] = short(cmd.model, vid)
        with ctx.uow() as uow:
            existing = uow.versions.get(cmd.model, vid)
        out["already_registered"] = existing is not None
    if existing is not None:
        run.skip("check lineage", "already registered: same content, same version")
        return existing, False

    now = ctx.clock.now()
    with run.step("check lineage") as out:
        parent_id = _parent(cmd, ctx)
        out["parent"] = short(cmd.model, parent_id) if parent_id else None

    draft = Version(model=cmd.model, id=vid, components=components, owner=cmd.owner,
                    parent_id=parent_id, reason=cmd.reason, scores={}, eval_source="",
                    created_at=now, kind=kind)
    if isinstance(cmd, StartExperiment):
        days = cmd.retention_days or policy.experiment_retention_days
        draft = replace(draft, experiment=cmd.name, expires_at=now + timedelta(days=days))

    with run.step("evaluate") as out:
        if cmd.scores is not None:
            if policy.metric not in cmd.scores:
                raise InvalidInput("scores", f"the primary metric {policy.metric!r} is missing",
                                   hint=f"add --score {policy.metric}=<value>")
            scores, source = dict(cmd.scores), "supplied"
        else:
            scores = run_eval(ctx, policy, draft)
            evaluator = ctx.evaluator(policy)
            source = f"evaluator: {evaluator.describe() if evaluator else '?'}"
        out.update(scores=scores, source=source, passed=policy.passes(scores))
        draft = replace(draft, scores=scores, eval_source=source)

    with run.step("store artifacts") as out:
        paths = [_readable(p) for p in cmd.artifacts]
        stored: list[Artifact] = [ctx.artifacts.put(cmd.model, vid, p) for p in paths]
        out["artifacts"] = [{"name": a.name, "sha256": a.sha256, "size": a.size} for a in stored]
        draft = replace(draft, artifacts=tuple(stored))

    with run.step("record version") as out:
        try:
            with ctx.uow() as uow:
                uow.versions.add(draft)
                uow.outbox.add(VersionRegistered(
                    model=draft.model, version_id=draft.id, owner=draft.owner, kind=draft.kind,
                    parent_id=draft.parent_id, at=draft.created_at))
                uow.commit()
        except AlreadyExists:
            # Someone registered the same content a moment ago: same id, same version.
            with ctx.uow() as uow:
                again = uow.versions.get(cmd.model, vid)
            if again is None:
                raise
            out["raced"] = True
            return again, False
        out["version"] = draft.short
    return draft, True


def _parent(cmd: Register, ctx: PlayContext) -> str | None:
    if cmd.root and cmd.parent:
        raise InvalidInput("parent", "give either a parent version or --root, not both")
    if cmd.root:
        return None
    if not cmd.parent:
        raise InvalidInput("parent", "is required",
                           hint="name the version this one changes (MODEL@<hex>), or pass "
                                "--root for a model's first version")
    with ctx.uow() as uow:
        return resolve(uow, cmd.model, cmd.parent).id


def _readable(path: str) -> Path:
    p = Path(path)
    if not p.is_file():
        raise InvalidInput("artifacts", f"{path} is not a readable file")
    return p


