"""Play 7's report: what changed around the onset, the re-run numbers, the verdict, and a
Roll back button (play 3, under the same incident-channel rule as /rollback)."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from bot.shared.render import scores
from bot.slack.blocks.common import (
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
from core.plays.investigate import Investigation

ROLLBACK = "investigation_rollback"


def rollback_value(model: str, revision: int) -> str:
    """What the button carries: the production revision seen, so a stale report cannot roll
    back a production that moved since."""
    return json.dumps({"model": model, "revision": revision})


def investigation_report(found: Investigation, revision: int) -> Message:
    verdict = (":red_circle: " if found.regression else ":large_green_circle: ") + found.verdict
    events = "\n".join(f"{at_(e)} `{(e['from'] or '-')[:12]}` → `{e['to'][:12]}` "
                       f"({e['play']} by {user(str(e['actor']))})"
                       for e in found.history[-8:]) or "none"
    text = f"Investigation of {found.model}: {found.verdict}"
    serving = [("Serving now", f"`{found.serving.short}`" if found.serving else "nothing")] \
        if not found.suspect_serving else []
    return message(text, [
        header(f"Investigation: {found.model}"),
        section(verdict),
        fields([("Suspect", f"`{found.suspect.short}`"),
                ("Previous", f"`{found.previous.short}`"), *serving,
                ("Changed", ", ".join(found.diff["changed_components"]) or "nothing"),
                ("Eval", esc(str(found.scores["source"]))),
                ("Suspect scores", scores(found.scores["suspect"])),
                ("Previous scores", scores(found.scores["previous"]))]),
        section(f"*Production history around the onset*\n{events}"),
        *rollback_offer(found, revision),
    ])


def rollback_offer(found: Investigation, revision: int) -> list[dict[str, Any]]:
    """The Roll back button, only while the suspect still serves: once production has
    moved away from it, rolling back would move production off what was restored."""
    if not found.suspect_serving:
        return [context(f"Production no longer runs `{found.suspect.short}`, so this report "
                        "offers no rollback · run " f"`{found.run_id}`")]
    return [
        actions("investigation", button(
            "Roll back", ROLLBACK, rollback_value(found.model, revision),
            style="danger" if found.regression else None,
            confirm=confirm_dialog(f"Roll back {found.model}?",
                                   "Production moves to the last known-good version at once; "
                                   "an incident record is posted here.", "Roll back"))),
        context((f"Roll back with the button, or `{command('rollback')} {found.model}`, in the "
                 "model's incident channel" if found.regression else
                 "The button rolls back anyway, in the model's incident channel")
                + f" · run `{found.run_id}`")]


def at_(event: dict[str, object]) -> str:
    value = event.get("at")
    return at(datetime.fromisoformat(str(value))) if value else "-"

