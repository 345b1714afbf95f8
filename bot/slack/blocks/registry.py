"""Answers to `/registry ...`, `/audit` and `/experiment`: short tables in code blocks, the
long form (an audit bundle) left to a file."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from bot.shared.render import diff_text, incident_roles, scores
from bot.shared.slack_commands import COMMANDS
from bot.slack.blocks.common import (
    SECTION_LIMIT,
    Message,
    at,
    code,
    context,
    esc,
    fields,
    message,
    section,
    user,
)
from bot.slack.names import command
from bot.slack.parse import REGISTRY_USAGE, usage
from core.domain import TagMoved, Version
from core.plays.audit import AuditBundle
from core.plays.experiment import ExperimentStarted
from core.plays.gc import GcReport
from core.queries import VersionView

# A list's lines stay well under Slack's 12,000 characters of text per message.
LIST_TEXT_LIMIT = 9000


def listed(title: str, lines: list[str], more: str) -> Message:
    """A list as Slack shows it on any screen: one line per item (no fixed-width table to
    cut off), several sections, and a note when the rest did not fit."""
    blocks = [section(f"*{title}*")]
    chunk: list[str] = []
    in_chunk = used = 0
    for n, line in enumerate(lines):
        if used + len(line) > LIST_TEXT_LIMIT:
            chunk.append(f"_… {len(lines) - n} more not shown: {more}_")
            break
        if in_chunk + len(line) > SECTION_LIMIT - 100:
            blocks.append(section("\n".join(chunk)))
            chunk, in_chunk = [], 0
        chunk.append(line)
        in_chunk += len(line) + 1
        used += len(line)
    if chunk:
        blocks.append(section("\n".join(chunk)))
    return message(title, blocks)


def _brief(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else text[:limit - 1].rstrip() + "…"


def versions_list(model: str, versions: list[VersionView]) -> Message:
    lines = []
    for f in versions:
        v = f.version
        tags = " ".join(f"*{t}*" for t in f.tags)
        lines.append(" · ".join(x for x in (
            f"`{v.short}`", tags, scores(v.scores), f"by {user(v.owner)}", at(v.created_at),
            esc(_brief(v.reason))) if x))
    return listed(f"{model}: {len(versions)} newest version(s)", lines or ["none yet"],
                  f"ask for fewer with `{command('registry')} versions {model} limit <n>`")


def version_detail(v: Version, tags: list[str]) -> Message:
    parent = v.parent_id[:12] if v.parent_id else "(root)"
    components = v.components.to_json()
    changed = [k for k in ("weights", "prompt", "config", "index") if components.get(k)]
    return message(f"{v.short}: {scores(v.scores)}", [
        section(f"*{v.short}*  {', '.join(f'`{t}`' for t in tags) or ''}"),
        fields([("Owner", user(v.owner)), ("Parent", f"`{parent}`"),
                ("Scores", scores(v.scores)), ("Eval", v.eval_source),
                ("Kind", v.kind + (f" ({v.experiment})" if v.experiment else "")),
                ("Created", at(v.created_at)), ("Reason", esc(v.reason) or "-"),
                ("Components", ", ".join(changed))]),
        context(f"id `{v.id}`" + (" · artifacts collected" if v.artifacts_collected_at
                                  else "")),
    ])


def history_list(model: str, events: list[TagMoved]) -> Message:
    lines = []
    for e in events:
        before = f"`{e.from_version[:12]}`" if e.from_version else "nothing"
        approved = (f" (approved by {', '.join(user(a) for a in e.approvers)})"
                    if e.approvers else "")
        lines.append(f"{at(e.at)} · *{e.tag}* {before} → `{e.to_version[:12]}` · {e.play} "
                     f"by {user(e.actor)}{approved}")
    return listed(f"{model}: {len(events)} newest tag event(s)", lines or ["none yet"],
                  f"ask for fewer with `{command('registry')} history {model} limit <n>`")


def diff_message(d: dict[str, Any]) -> Message:
    changed = ", ".join(d["changed_components"]) or "nothing"
    return message(f"diff {d['from']} -> {d['to']}: changed {changed}",
                   [section(code(diff_text(d)))])


def gc_message(report: GcReport, actor: str) -> Message:
    verb = "would free" if report.dry_run else "freed"
    names = ", ".join(f"`{v.short}`" for v in report.collected) or "nothing"
    kept = ", ".join(f"{n} {why}" for why, n in sorted(report.kept.items())) or "-"
    text = f"Garbage collection{' (dry run)' if report.dry_run else ''} by {user(actor)}: " \
           f"{verb} {report.bytes_freed} bytes"
    return message(text, [section(f":wastebasket: {text}"),
                          fields([("Collected", names), ("Kept", kept)]),
                          context("Metadata, scores and lineage are kept forever.")])


def audit_summary(found: AuditBundle) -> Message:
    data = found.to_json()
    v = data["version"]
    shown = data["lineage"][:6]
    lineage = " ← ".join(f"`{x['version']}`" for x in shown)
    more = data["lineage_depth"] + 1 - len(shown)
    if more > 0:
        lineage += f" ← … ({more:,} more, back to `{data['lineage_root']['version']}`)"
    approvals = [a for a in data["approvals"] if a["status"] == "approved"]
    text = f"Audit of request {esc(found.request_id)}: served by {v['short']}"
    return message(text, [
        section(f":mag: *{text}*"),
        fields([("Served at", at(datetime.fromisoformat(data["attribution"]["served_at"]))),
                ("Owner", user(v["owner"])), ("Scores", scores(v["scores"])),
                ("Reason", esc(v["reason"]) or "-"),
                ("Tag events", str(len(data["tag_events"]))),
                ("Approved by", ", ".join(user(x) for a in approvals
                                          for x in (y["approver"] for y in a["approvals"]))
                 or "-"),
                ("Incidents", incident_roles(data["incidents"], v["id"])),
                ("Lineage", lineage)]),
        context("The bundle (components, nearest lineage, eval, approvals, incidents) is the "
                "file in this thread; `playbook audit REQUEST --lineage all` lists the whole "
                "lineage."),
    ])


def experiment_started(found: ExperimentStarted, actor: str) -> Message:
    v = found.version
    state = "registered" if found.created else "already registered (same content)"
    text = f"Experiment {found.tag} -> {v.short} ({state}) by {user(actor)}"
    return message(text, [
        section(f":test_tube: *{text}*"),
        fields([("Scores", scores(v.scores)), ("Eval", v.eval_source),
                ("Parent", f"`{(v.parent_id or '')[:12]}`"),
                ("Expires", at(v.expires_at))]),
        context(f":no_entry: Not promotable as it is: {esc(found.unpromotable)}."
                if found.unpromotable else
                f"It clears production's bar: `{command('promote')} {v.model} {v.short}` to "
                "ship it."),
    ])


def help_message() -> Message:
    """Every command's usage line and an example, as this workspace types the commands."""
    found = [usage(c.name) for c in COMMANDS if c.name != "registry"]
    found += [usage("registry", action) for action in REGISTRY_USAGE]
    lines = [f"• `{line}`\n    e.g. `{example}`" for line, example in found]
    return message("Playbook commands", [
        section("*Playbook commands* (a version is `model@<hex>`, at least 8 hex; a time is "
                "ISO 8601, `now` or `2h ago`)"),
        section("\n".join(lines)),
        context(f"`{command('rollback')}` runs only in the model's incident channel; "
                "high-stakes promotions post an approval card in its release channel."),
    ])
