"""The card of an incident monitoring opened: what fired and since when, the suspect and what
changed in it, the investigation's verdict, and the on-call's three buttons. The same card is
updated in place as the alert repeats, resolves or flaps, and when someone decides."""

from __future__ import annotations

import re

from bot.slack.blocks.common import (
    Block,
    Message,
    actions,
    at,
    button,
    confirm_dialog,
    context,
    esc,
    fields,
    header,
    message,
    section,
    user,
)
from bot.slack.names import command
from core.plays.alerts import DETECTED, ROLLED_BACK, ROLLING_BACK, DetectionView

# A link Slack shows as the alert's source: http(s), none of mrkdwn's <, >, | nor spaces, so
# an alert's text cannot turn into a mention or another link.
SAFE_URL = re.compile(r"^https?://[^\s<>|]{1,1900}$")
ROLLBACK = "detection_rollback"
INVESTIGATE = "detection_investigate"
DISMISS = "detection_dismiss"


def detection_card(view: DetectionView) -> Message:
    d = view.detection
    icon = {DETECTED: ":rotating_light:", ROLLED_BACK: ":rewind:",
            ROLLING_BACK: ":hourglass_flowing_sand:"}.get(d.state, ":zzz:")
    resolved = f"resolved {at(d.resolved_at)}" if d.resolved_at else "firing"
    text = f"Incident detected on {d.model}: {esc(d.name)} ({resolved})"
    link = f" · <{d.url}|source>" if d.url and SAFE_URL.match(d.url) else ""
    alert = f"*{esc(d.name)}* from {d.source}{link}"
    blocks: list[Block] = [
        header(f"{icon} Incident detected: {d.name} ({d.model})"[:150]),
        section(alert + (f"\n{esc(d.summary)}" if d.summary else "")),
        fields([("Firing since", at(d.started_at)), ("Alert", resolved),
                ("Notifications", f"{d.fired}" + (f", flapped {d.flaps}x" if d.flaps else "")),
                ("Suspect", _suspect(view))]),
    ]
    if view.changed:
        blocks.append(context("Changed in the suspect against "
                              f"`{view.previous.short if view.previous else '?'}`: "
                              + ", ".join(view.changed)))
    if d.verdict:
        blocks.append(section(f":mag: {esc(d.verdict)}"))
    blocks += _decision(view)
    return message(text, blocks)


def _suspect(view: DetectionView) -> str:
    if view.suspect is None:
        return "nothing was in production"
    since = f" since {at(view.suspect_since)}" if view.suspect_since else ""
    moved = ""
    if view.serving is None or view.serving.id != view.suspect.id:
        moved = f"\n(production now: `{view.serving.short if view.serving else 'none'}`)"
    return f"`{view.suspect.short}` in production{since}{moved}"


def _decision(view: DetectionView) -> list[Block]:
    d = view.detection
    if d.state == ROLLED_BACK:
        return [context(f":white_check_mark: Rolled back by {user(d.decided_by)} "
                        f"{at(d.decided_at)}: incident `{d.incident_id}`")]
    if d.state == ROLLING_BACK:
        return [context(f"Rolling back: {user(d.decided_by)} clicked {at(d.decided_at)}; "
                        "the incident record follows here")]
    if d.state != DETECTED:
        return [context(f"Dismissed by {user(d.decided_by)} {at(d.decided_at)}")]
    buttons: list[Block] = []
    if view.rollback_to is not None:
        buttons.append(button(
            f"Roll back to {view.rollback_to.short}"[:75], ROLLBACK, d.id, style="danger",
            confirm=confirm_dialog(f"Roll back {d.model}?",
                                   f"Production moves to {view.rollback_to.short} (the last "
                                   "known-good) at once; an incident record is posted here.",
                                   "Roll back")))
    buttons += [button("Investigate further", INVESTIGATE, d.id),
                button("Dismiss", DISMISS, d.id)]
    why = "" if view.rollback_to is not None else (
        "No rollback offered: production has moved away from the suspect. "
        if view.suspect is not None and (view.serving is None
                                         or view.serving.id != view.suspect.id)
        else "No rollback offered: no earlier known-good version. ")
    return [actions("detection", *buttons),
            context(f"{why}`{command('rollback')} {d.model}` here does the same by hand · "
                    f"`{d.id}`")]
