"""Adopting an existing registry (register, played for each version another registry holds):
every version becomes a Playbook version, in order, each the parent of the next, its weights
reference the registry's own immutable one (`models:/NAME/N` for MLflow), its scores what the
registry recorded; the registry's `production` alias becomes the production tag when Playbook
has none yet. Idempotent: the same content is the same version, and a tag Playbook already set
is left alone (reported, not overwritten).

Everything is read and checked before anything is written: a version without the model's
primary metric (and no evaluator to measure it) stops the import with nothing registered.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from core.commands import Register
from core.engine import PlayContext
from core.errors import InvalidInput, Refused
from core.identity import short
from core.plays.common import current, move_tag
from core.plays.register import register


@dataclass(frozen=True)
class ForeignVersion:
    """One version as the other registry holds it."""

    number: str
    weights_ref: str  # immutable: models:/NAME/N
    source: str
    run_id: str | None
    owner: str | None
    scores: dict[str, float]
    tags: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Adopted:
    registered: list[tuple[str, str, bool]]  # (foreign number, version id, newly registered)
    tags_set: list[tuple[str, str]]  # (tag, version id)
    tags_left: list[str]  # why an alias did not become a tag


def adopt(ctx: PlayContext, *, model: str, registry: str, versions: list[ForeignVersion],
          aliases: dict[str, str], actor: str, owner: str | None = None) -> Adopted:
    policy = ctx.config.model(model)
    if not versions:
        raise InvalidInput("versions", f"{registry} has no versions to import")
    ordered = sorted(versions, key=lambda v: int(v.number))
    unscored = [v.number for v in ordered if policy.metric not in v.scores]
    if unscored and ctx.evaluator(policy) is None:
        raise Refused(f"version(s) {', '.join(unscored)} of {registry} recorded no "
                      f"{policy.metric!r}, and {model} has no evaluator to measure them",
                      hint=f"log {policy.metric} on their runs, or declare an evaluator for "
                           f"[models.{model}]; nothing was imported")
    registered: list[tuple[str, str, bool]] = []
    parent: str | None = None
    by_number: dict[str, str] = {}
    for v in ordered:
        note = "; ".join(x for x in (f"source {v.source}" if v.source else "",
                                     f"run {v.run_id}" if v.run_id else "",
                                     ", ".join(f"{k}={t}" for k, t in sorted(v.tags.items())))
                         if x)
        cmd = Register.parse(
            model=model, components={"weights": {"ref": v.weights_ref}},
            owner=owner or v.owner or actor,
            reason=f"imported from {registry} version {v.number}" + (f" ({note})" if note
                                                                     else ""),
            parent=f"{model}@{parent}" if parent else None, root=parent is None,
            scores=v.scores if policy.metric in v.scores else None, actor=actor)
        done = register(cmd, ctx)
        registered.append((v.number, done.version.id, done.created))
        by_number[v.number] = done.version.id
        parent = done.version.id
    tags_set: list[tuple[str, str]] = []
    left: list[str] = []
    for alias, number in sorted(aliases.items()):
        if alias != "production":
            left.append(f"alias {alias!r} -> {number}: only production is imported as a tag")
            continue
        target = by_number.get(number)
        if target is None:
            left.append(f"alias {alias!r} -> {number}: that version was not imported")
            continue
        with ctx.uow() as uow:
            now, revision = current(uow, model, alias)
            if now is not None:
                if now.id != target:
                    left.append(f"alias {alias!r} -> {number}: Playbook's {alias} is "
                                f"{now.short} already and stays")
                continue
            to = uow.versions.get(model, target)
            assert to is not None
            move_tag(uow, model=model, tag=alias, to=to, expected_revision=revision,
                     from_version=None, actor=actor, play="import",
                     reason=f"imported from {registry} alias {alias!r}", at=ctx.clock.now())
            uow.commit()
        tags_set.append((alias, target))
    return Adopted(registered, tags_set, left)


def describe(model: str, adopted: Adopted) -> str:
    new = sum(1 for _, _, created in adopted.registered if created)
    lines = [f"{len(adopted.registered)} version(s), {new} new"]
    lines += [f"  {number} -> {short(model, vid)}{'' if created else ' (already there)'}"
              for number, vid, created in adopted.registered]
    lines += [f"tag {tag} -> {short(model, vid)}" for tag, vid in adopted.tags_set]
    lines += adopted.tags_left
    return "\n".join(lines)
