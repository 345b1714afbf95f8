"""Play 1, register: every behaviour-affecting change gets an immutable, content-derived id."""

from __future__ import annotations

import copy
from dataclasses import dataclass, replace
from datetime import timedelta
from pathlib import Path
from typing import Any

from core.commands import Register, StartExperiment
from core.domain import Artifact, Version
from core.engine import PlayContext, RunRecorder
from core.errors import AlreadyExists, InvalidInput, PlaybookError, Refused
from core.events import VersionRegistered
from core.identity import Components, short, version_id
from core.plays.common import resolve, run_eval
from core.refs import moving


@dataclass(frozen=True)
class Registered:
    version: Version
    created: bool
    run_id: str
    warnings: tuple[str, ...] = ()


def register(cmd: Register, ctx: PlayContext) -> Registered:
    with ctx.run("register", cmd.actor, cmd.inputs()) as run:
        version, created = register_steps(cmd, ctx, run)
        warnings = tuple(f"{name} {ref!r} names a moving target ({why}) and has no sha256: "
                         "the same version id could later mean other bytes"
                         for name, ref, why in moving_references(version.components))
        run.run.result = {"version": version.short, "created": created,
                          **({"warnings": list(warnings)} if warnings else {})}
        return Registered(version, created, run.id, warnings)


def moving_references(components: Components) -> list[tuple[str, str, str]]:
    """(component, reference, why) for each weights or index reference that names a moving
    target without a digest."""
    found = []
    for name, art in (("weights", components.weights), ("index", components.index)):
        why = moving(art.ref) if art is not None and art.sha256 is None else None
        if art is not None and why:
            found.append((name, art.ref, why))
    return found


def register_steps(cmd: Register, ctx: PlayContext, run: RunRecorder, *,
                   kind: str = "release") -> tuple[Version, bool]:
    """The steps of play 1, shared with play 4 (an experiment registers its version first)."""
    policy = ctx.config.model(cmd.model)
    with run.step("identify") as out:
        if isinstance(cmd, StartExperiment):
            components = _inherited(cmd, ctx, out)
        else:
            components = cmd.components.to_domain()
        vid = version_id(components)
        out["version"] = short(cmd.model, vid)
        unpinned = moving_references(components)
        if unpinned and policy.digests_required:
            name, ref, why = unpinned[0]
            raise Refused(f"{name} {ref!r} names a moving target ({why}) without a sha256, "
                          f"and {cmd.model} requires digests (require_digest)",
                          hint=f"pin it: give its sha256 (--{name}-sha256) or a reference to "
                               "an immutable revision (a commit hash, a version number)")
        out["moving_references"] = [ref for _, ref, _ in unpinned]
        with ctx.uow(read_only=True) as uow:
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
            with ctx.uow(read_only=True) as uow:
                again = uow.versions.get(cmd.model, vid)
            if again is None:
                raise
            out["raced"] = True
            return again, False
        out["version"] = draft.short
    return draft, True


def _inherited(cmd: StartExperiment, ctx: PlayContext, out: dict[str, Any]) -> Components:
    """The parent's components with the experiment's changes (play 4's rule, from every
    surface): a component not given is the parent's; `config_set` sets single config keys."""
    if not cmd.parent or cmd.root:
        return cmd.components.to_domain()  # refused as "needs a parent" by the play
    given = cmd.components
    mentioned = any(v is not None for v in (given.weights, given.prompt, given.config,
                                             given.index))
    try:
        with ctx.uow(read_only=True) as uow:
            parent = resolve(uow, cmd.model, cmd.parent)
    except PlaybookError:
        if mentioned:  # "check lineage" says what is wrong with the parent
            return given.to_domain()
        raise
    config = copy.deepcopy(given.config if given.config is not None
                           else parent.components.config)
    if cmd.config_set and config is None:
        config = {}
    for dotted, value in cmd.config_set.items():
        *path, last = dotted.split(".")
        if not last or not all(path):
            raise InvalidInput("config_set", f"{dotted!r} is not a key (a.b.c)")
        assert config is not None
        node = config
        for key in path:
            child = node.get(key)
            if not isinstance(child, dict):
                child = node[key] = {}
            node = child
        node[last] = value
    mine = given.to_domain() if mentioned else None
    merged = Components(
        weights=mine.weights if mine and mine.weights else parent.components.weights,
        prompt=given.prompt if given.prompt is not None else parent.components.prompt,
        config=config,
        index=mine.index if mine and mine.index else parent.components.index)
    if merged == parent.components:
        raise InvalidInput("components", f"the experiment changes nothing from its parent "
                                         f"{parent.short}",
                           hint="change at least one of weights, prompt, config or index")
    out["inherited"] = [name for name in ("weights", "prompt", "config", "index")
                        if getattr(given, name) is None
                        and not (name == "config" and cmd.config_set)]
    return merged


def _parent(cmd: Register, ctx: PlayContext) -> str | None:
    if cmd.root and cmd.parent:
        raise InvalidInput("parent", "give either a parent version or --root, not both")
    if cmd.root:
        return None
    if not cmd.parent:
        raise InvalidInput("parent", "is required",
                           hint="name the version this one changes (MODEL@<hex>), or pass "
                                "--root for a model's first version")
    with ctx.uow(read_only=True) as uow:
        return resolve(uow, cmd.model, cmd.parent).id


def _readable(path: str) -> Path:
    p = Path(path)
    if not p.is_file():
        raise InvalidInput("artifacts", f"{path} is not a readable file")
    return p


