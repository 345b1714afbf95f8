"""Play 4, experiment: branch from a registered parent under `experiment/<name>`.

The version is registered exactly as play 1 does (same identity, same eval), but with a short
retention window; winners reach production only through play 2.
"""

from __future__ import annotations

from dataclasses import dataclass

from core.commands import StartExperiment
from core.domain import EXPERIMENT_PREFIX, PRODUCTION, TagMoved, Version
from core.engine import PlayContext
from core.errors import InvalidInput, InvalidState, Refused
from core.plays.common import current, gate, move_tag
from core.plays.register import register_steps


@dataclass(frozen=True)
class ExperimentStarted:
    version: Version
    created: bool
    tag: str
    event: TagMoved | None  # None when the tag already pointed at this version
    run_id: str
    unpromotable: str = ""  # why play 2 would refuse it now ("" when it clears the bar)


def start_experiment(cmd: StartExperiment, ctx: PlayContext) -> ExperimentStarted:
    tag = EXPERIMENT_PREFIX + cmd.name
    with ctx.run("experiment", cmd.actor, cmd.inputs()) as run:
        if cmd.root or not cmd.parent:
            raise InvalidInput("parent", "an experiment branches from a registered parent",
                               hint="pass --parent MODEL@<hex>")
        version, created = register_steps(cmd, ctx, run, kind="experiment")
        with run.step("move experiment tag") as out, ctx.uow() as uow:
            pointed, revision = current(uow, cmd.model, tag)
            event = None
            if pointed is None or pointed.id != version.id:
                event = move_tag(uow, model=cmd.model, tag=tag, to=version,
                                 expected_revision=revision,
                                 from_version=pointed.id if pointed else None, actor=cmd.actor,
                                 play="experiment", reason=cmd.reason, at=ctx.clock.now())
                uow.commit()
            out.update(tag=tag, moved=event is not None)
        with ctx.uow(read_only=True) as uow:
            production, _ = current(uow, cmd.model, PRODUCTION)
        try:
            gate(ctx.config.model(cmd.model), version, production)
            unpromotable = ""
        except (Refused, InvalidState) as exc:
            unpromotable = exc.message
        run.run.result = {"version": version.short, "tag": tag, "created": created,
                          "promotable": not unpromotable}
        return ExperimentStarted(version, created, tag, event, run.id, unpromotable)
