"""Play 7, investigate a regression: what changed around the onset, and did it hurt?

Finds the version that was production at the onset (the suspect) and the one before it, diffs
the whole composite, re-runs the eval suite on both, and gives a verdict with the numbers. The
outcome is either a rollback (play 3) or a wider search.

It knows what happened since: when production has moved away from the suspect (a rollback, a
newer promotion) the report says so and what serves now, and offers no rollback, which would
move production off the version that was restored. Asked with no onset right after a
rollback, the suspect is the version rolled back from, not the one restored.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from core import serialize
from core.commands import Investigate
from core.diff import diff_versions
from core.domain import PRODUCTION, TagMoved, Version
from core.engine import PlayContext
from core.errors import InvalidState, NotFound, PlaybookError
from core.identity import short
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
    serving: Version | None = None  # production now
    moved_on: TagMoved | None = None  # how production moved away from the suspect, if it did

    @property
    def suspect_serving(self) -> bool:
        """The suspect is still production: a rollback would move production off it."""
        return self.moved_on is None


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
            now_tag = uow.tags.get(cmd.model, PRODUCTION)
            at_onset: TagMoved | None = None  # the move in force at the onset
            after_rollback = False
            if cmd.suspect:
                suspect = resolve(uow, cmd.model, cmd.suspect)
            else:
                last = uow.events.history(cmd.model, PRODUCTION, until=onset, limit=1,
                                          newest_first=True)
                if not last:
                    raise NotFound(f"{cmd.model} had no production version at "
                                   f"{stamp(onset, seconds=True)}")
                at_onset = last[0]
                after_rollback = (cmd.onset is None and at_onset.play == "rollback"
                                  and at_onset.from_version is not None
                                  and at_onset.at >= onset - window)
                if after_rollback:
                    # Asked "now" soon after a rollback (within the window): the regression
                    # is the version rolled back from; the one restored serves meanwhile.
                    chosen_id = at_onset.from_version or ""
                    out["rolled_back_from"] = short(cmd.model, chosen_id)
                else:
                    chosen_id = at_onset.to_version
                found = uow.versions.get(cmd.model, chosen_id)
                assert found is not None
                suspect = found
            moves = [e for e in uow.events.touching(cmd.model, suspect.id)
                     if e.tag == PRODUCTION]
            if at_onset is not None and not after_rollback and at_onset.play != "rollback":
                event = at_onset
            else:  # the promotion that made it production (a rollback compares nothing)
                upto = (at_onset.seq or 0) if at_onset is not None else None
                made = [e for e in moves if e.to_version == suspect.id
                        and (upto is None or (e.seq or 0) < upto)]
                made = [e for e in made if e.play != "rollback"] or made
                if not made:
                    raise InvalidState(f"{suspect.short} never served production")
                event = made[-1]
            if event.from_version is None:
                raise InvalidState(f"{suspect.short} was {cmd.model}'s first production "
                                   "version; there is nothing earlier to compare with")
            prev = uow.versions.get(cmd.model, event.from_version)
            assert prev is not None
            previous = prev
            moved_on = None
            if now_tag is None or now_tag.version_id != suspect.id:
                moved_on = next((e for e in moves if e.from_version == suspect.id
                                 and (e.seq or 0) > (event.seq or 0)), None)
            serving = uow.versions.get(cmd.model, now_tag.version_id) if now_tag else None
            out.update(suspect=suspect.short, previous=previous.short,
                       promoted_at=serialize.ts(event.at),
                       serving=serving.short if serving else None,
                       moved_on=f"{moved_on.play} at {serialize.ts(moved_on.at)}"
                       if moved_on else None)
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
                    f"({suspect.short} vs {previous.short}); "
                    + (f"roll back to {previous.short}" if moved_on is None else
                       "nothing to roll back")
                    if regression else
                    f"no regression in eval: {policy.metric} {p:g} -> {s:g}; widen the search "
                    "(traffic, upstream data, other services)")
            if moved_on is not None:
                verdict += (f". Production already moved away from {suspect.short}: "
                            f"{moved_on.play} to {short(cmd.model, moved_on.to_version)} at "
                            f"{stamp(moved_on.at)}"
                            + (f"; {serving.short} serves now" if serving else ""))
            out.update(regression=regression, verdict=verdict)
        run.run.result = {"suspect": suspect.short, "previous": previous.short,
                          "regression": regression, "verdict": verdict,
                          "suspect_serving": moved_on is None}
        return Investigation(cmd.model, suspect, previous, history, diff, fresh, regression,
                             verdict, run.id, serving, moved_on)
