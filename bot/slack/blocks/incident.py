"""Incident records (play 3), their confirmation, and promotions that moved the tag at once."""

from __future__ import annotations

from typing import Any

from bot.slack.blocks.common import (
    Message,
    at,
    context,
    esc,
    fields,
    header,
    message,
    section,
    user,
)
from bot.slack.names import command
from core.domain import Incident
from core.events import MirrorReported, Promoted
from core.identity import short


def rolled_back(incident: Incident) -> str:
    """One line that says what already happened, for reports that follow."""
    word = "Rehearsal rolled back" if incident.rehearsal else "Rolled back"
    return (f"{word} {short(incident.model, incident.bad_version)} -> "
            f"{short(incident.model, incident.restored_version)} (incident {incident.id})")


def time_to_rollback(incident: Incident, budget_s: float) -> str:
    """Detected to serving switched against the budget; until serving is seen switching,
    detected to the tag's move, said as such."""
    served = incident.time_to_serving_s
    if served is None:
        ttr = incident.time_to_rollback_s
        so_far = (f":warning: over the {budget_s:g} s budget already" if ttr > budget_s
                  else f"within the {budget_s:g} s budget so far")
        return f"{ttr:.2f} s to the tag's move ({so_far}); serving not seen switching yet"
    within = ":white_check_mark: within" if served <= budget_s else ":warning: over"
    return f"{served:.2f} s, detected to serving switched ({within} the {budget_s:g} s budget)"


def ttr_brief(incident: Incident) -> str:
    """Time to rollback in a line, with its slowest stage: digests and the App Home."""
    served = incident.time_to_serving_s
    text = (f"{served:.2f} s to serving switched" if served is not None else
            f"{incident.time_to_rollback_s:.2f} s to the tag's move")
    slowest = incident.slowest_stage()
    return f"{text} (slowest: {slowest[0]}, {slowest[1]:.1f} s)" if slowest else text


def stages(incident: Incident) -> str:
    start = incident.detected
    lines = []
    for name, when in incident.stages():
        lines.append(f"{name}: {at(when)} (+{(when - start).total_seconds():.1f} s)"
                     if when is not None else f"{name}: -")
    slowest = incident.slowest_stage()
    if slowest is not None:
        lines.append(f"slowest: {slowest[0]} ({slowest[1]:.1f} s)")
    return "\n".join(lines)


def incident_record(incident: Incident, budget_s: float) -> Message:
    bad = short(incident.model, incident.bad_version)
    good = short(incident.model, incident.restored_version)
    title = (f"Rehearsal: rolled back {incident.model} ({incident.tag} tag)"
             if incident.rehearsal else f"Rolled back {incident.model}")
    blocks = [
        header(f"{'🎭' if incident.rehearsal else '🚨'} {title}"),
        section(f"`{bad}` → `{good}`"),
        fields([
            ("Incident", f"`{incident.id}`"),
            ("By", user(incident.opened_by)),
            ("Time to rollback", time_to_rollback(incident, budget_s)),
            ("Rolled back at", at(incident.rolled_back_at)),
            ("Symptom", esc(incident.symptom) or "-"),
            (("Production (untouched)", f"`{bad}`, still serving") if incident.rehearsal
             else ("Bad version", f"`{bad}`")),
            ("Stages", stages(incident)),
        ]),
        context("Confirming with the eval suite; the result follows in this thread."
                if incident.confirmed_at is None else
                f"Confirmation: {incident.confirmation} (in this thread)"),
    ]
    served = incident.time_to_serving_s
    ttr = incident.time_to_rollback_s if served is None else served
    return message(f"{rolled_back(incident)}; time to rollback {ttr:.2f} s", blocks)


def confirmation(incident: Incident) -> Message:
    good = short(incident.model, incident.restored_version)
    scores = ", ".join(f"{k}={v:g}" for k, v in sorted(incident.confirm_scores.items()))
    result = incident.confirmation or "not run"
    if result == "passed":
        text = f":white_check_mark: Confirmation eval passed for `{good}`: {scores}."
    elif result == "failed":
        text = (f":x: Confirmation eval failed for `{good}`: {scores or 'no scores'}. The "
                "rollback stands; pick another target with "
                f"`{command('rollback')} {incident.model} to <version>` or investigate.")
    else:
        text = (f":warning: The confirmation eval could not run ({esc(result)}). The rollback "
                "stands; check the model's evaluator.")
    return message(text, [section(text)])


def mirror_report(event: MirrorReported) -> Message:
    restored = short(event.model, event.version_id)
    if event.followed:
        text = (f":white_check_mark: Serving's registry followed: {event.registry}'s alias "
                f"`{event.tag}` now points at `{restored}` ({esc(event.detail)}).")
    else:
        text = (f":rotating_light: Serving's registry has *not* followed yet: {event.registry}'s "
                f"alias `{event.tag}` still points where it did ({esc(event.detail)}). "
                "Playbook keeps trying; serving that reads the alias still gets the bad "
                "version.")
    return message(text, [section(text)])


def promoted(event: Promoted, gate: dict[str, Any]) -> Message:
    target = short(event.model, event.version_id)
    before = short(event.model, event.from_version) if event.from_version else "nothing"
    metric = gate.get("metric", "score")
    numbers = f"{metric} {gate.get('candidate_score', 0):g}"
    if gate.get("delta") is not None:
        numbers += f" vs {gate.get('production_score', 0):g} ({gate['delta']:+g})"
    text = f"Promoted {target} to production (was {before}) by {user(event.actor)}"
    blocks = [section(f":rocket: *{text}*"),
              context(f"{numbers} · revision {event.revision} · {at(event.at)}"
                      + (f" · because {esc(event.reason)}" if event.reason else ""))]
    return message(text, blocks)
