"""The App Home tab: per model, where production stands and what needs attention."""

from __future__ import annotations

from typing import Any

from bot.slack.blocks.common import (
    Block,
    actions,
    at,
    button,
    context,
    divider,
    fields,
    header,
    section,
    user,
)
from bot.slack.blocks.incident import ttr_brief
from bot.slack.names import command
from core.identity import short
from core.queries import ModelOverview

REHEARSE = "home_rehearse"
MAX_MODELS = 20  # a Home view holds at most 100 blocks


def _model_blocks(s: ModelOverview, note: str | None) -> list[Block]:
    prod = f"`{short(s.model, s.production.version_id)}` (rev {s.production.revision}, " \
           f"{at(s.production.moved_at)})" if s.production else "none yet"
    pending = "\n".join(f"`{r.id}` → `{short(r.model, r.version_id)}` "
                        f"{len(r.approvals)}/{r.required} by {user(r.requester)}, expires "
                        f"{at(r.expires_at)}" for r in s.pending[:5]) or "none"
    incidents = "\n".join(f"`{i.id}` `{short(i.model, i.bad_version)}` → "
                          f"`{short(i.model, i.restored_version)}` {at(i.opened_at)} "
                          f"({i.confirmation or 'confirming'})" for i in s.incidents[:5]) \
        or "none"
    if s.last_rehearsal:
        r = s.last_rehearsal
        mark = ":warning:" if r.over_budget(s.rehearsal_budget_s) else ":white_check_mark:"
        rehearsal = f"{at(r.opened_at)}, time to rollback {ttr_brief(r)} {mark}"
    else:
        rehearsal = "never"
    real = next((i for i in s.incidents if not i.rehearsal), None)
    last_real = f"`{real.id}` {at(real.opened_at)}: {ttr_brief(real)}" if real else "none"
    return [
        section(f"*{s.model}* · {s.stakes} stakes"),
        fields([("Production", prod), ("Last known-good", f"`{s.last_known_good}`"
                                       if s.last_known_good else "none"),
                ("Pending approvals", pending), ("Recent incidents (7 days)", incidents),
                ("Last rehearsal", rehearsal), ("Last real time to rollback", last_real)]),
        actions(f"home:{s.model}", button("Run rehearsal now", REHEARSE, s.model)),
        *([context(note)] if note else []),
        divider(),
    ]


def home_view(summaries: list[ModelOverview],
              notes: dict[str, str] | None = None) -> dict[str, Any]:
    """`notes`: a line under a model for the person looking (what their click started)."""
    blocks: list[Block] = [header("Playbook: models at a glance")]
    for s in summaries[:MAX_MODELS]:
        blocks += _model_blocks(s, (notes or {}).get(s.model))
    if len(summaries) > MAX_MODELS:
        blocks.append(context(f"{len(summaries) - MAX_MODELS} more model(s): use "
                              f"`{command('registry')} versions <model>`."))
    if not summaries:
        blocks.append(section("No models are declared in playbook.toml yet."))
    blocks.append(context(f"Type `{command('registry')} help` for every command."))
    return {"type": "home", "blocks": blocks}
