"""Play 7, investigate a regression: what changed around the onset, and did it hurt?

Finds the version that was production at the onset (the suspect) and the one before it, diffs
the whole composite, re-runs the eval suite on both, and gives a verdict with the numbers. The
outcome is either a rollback (play 3) or a wider search.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from core import serialize
from core.commands import Investigate
from core.diff import diff_versions
from core.domain import PRODUCTION, Version
from core.engine import PlayContext
from core.errors import InvalidState, NotFound, PlaybookError
from core.plays.common import resolve, run_eval
from core.timetext import stamp


@dataclass(frozen=True)
class Investigation:
    model: str
    suspect: Version
    previous: Version
    history: list[dict[str, Any]]
    diff: dict[str, Any]
    scores: dict[str, Any]
    regression: bool
    verdict: str
    run_id: str


def investigate(cmd: Investigate, ctx: PlayContext) -> Investigation:
    onset = cmd.onset or ctx.clock.now()
    window = timedelta(hours=cmd.window_hours)
    with ctx.run("investigate", cmd.actor, cmd.inputs()) as run:
        policy = ctx.config.model(cmd.model)
        with run.step("production history") as out, ctx.uow(read_only=True) as uow:
            events = uow.events.history(cmd.model, PRODUCTION, since=onset - window,
                                        until=onset + window)
            history = [serialize.event(e) for e in events]
            out.update(events=len(history), since=(onset - window).isoformat(),
                       until=(onset + window).isoformat())
        with run.step("find suspect") as out, ctx.uow(read_only=True) as uow:
            if cmd.suspect:
                suspect = resolve(uow, cmd.model, cmd.suspect)
                made = [e for e in uow.events.touching(cmd.model, suspect.id)
                        if e.tag == PRODUCTION and e.to_version == suspect.id]
                if not made:
                    raise InvalidState(f"{suspect.short} never served production")
                event = made[-1]
            else:
                last = uow.events.history(cmd.model, PRODUCTION, until=onset, limit=1,
                                          newest_first=True)
                if not last:
                    raise NotFound(f"{cmd.model} had no production version at "
                                   f"{stamp(onset, seconds=True)}")
                event = last[0]
                found = uow.versions.get(cmd.model, event.to_version)
                assert found is not None
                suspect = found
            if event.from_version is None:
                raise InvalidState(f"{suspect.short} was {cmd.model}'s first production "
                                   "version; there is nothing earlier to compare with")
            prev = uow.versions.get(cmd.model, event.from_version)
            assert prev is not None
            previous = prev
            out.update(suspect=suspect.short, previous=previous.short,
                       promoted_at=serialize.ts(event.at))
        with run.step("diff") as out:
            diff = diff_versions(previous, suspect)
            out.update(changed=diff["changed_components"])

        started = ctx.clock.now()
        try:
            fresh: dict[str, Any] = {"suspect": run_eval(ctx, policy, suspect),
                     "previous": run_eval(ctx, policy, previous), "source": "re-run"}
            run.record("re-run eval", started, dict(fresh))
        except PlaybookError as exc:
            fresh = {"suspect": suspect.scores, "previous": previous.scores,
                     "source": f"stored scores (re-run failed: {exc})"}
            run.record("re-run eval", started, dict(fresh), str(exc))

        with run.step("verdict") as out:
            s, p = fresh["suspect"].get(policy.metric), fresh["previous"].get(policy.metric)
            if s is None or p is None:
                regression = False
                verdict = f"cannot tell: {policy.metric!r} missing from the scores"
            else:
                worse_by = (p - s) if policy.higher_is_better else (s - p)
                regression = worse_by > policy.regression_tolerance
                verdict = (
                    f"regression confirmed: {policy.metric} {p:g} -> {s:g} "
                    f"({suspect.short} vs {previous.short}); roll back to {previous.short}"
                    if regression else
                    f"no regression in eval: {policy.metric} {p:g} -> {s:g}; widen the search "
                    "(traffic, upstream data, other services)")
            out.update(regression=regression, verdict=verdict)
        run.run.result = {"suspect": suspect.short, "previous": previous.short,
                          "regression": regression, "verdict": verdict}
        return Investigation(cmd.model, suspect, previous, history, diff, fresh, regression,
                             verdict, run.id)
