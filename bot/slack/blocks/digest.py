"""The scheduled posts: the daily digest, rehearsal reminders and results, GC cycle reports and
experiment expiry warnings."""

from __future__ import annotations

from datetime import UTC, datetime, tzinfo

from bot.shared.slack_rules import block_text
from bot.slack.blocks.common import (
    Block,
    Message,
    actions,
    at,
    button,
    context,
    divider,
    esc,
    header,
    message,
    section,
    user,
)
from bot.slack.blocks.incident import ttr_brief
from bot.slack.names import command
from core.digest import Digest, ModelDigest
from core.domain import Version
from core.identity import short
from core.plays.rehearse import RehearsalResult, RehearsalStatus

REHEARSE_ACTION = "rehearse_now"
# Slack refuses a message of more than 50 blocks, or whose blocks hold more than about 12,000
# characters of text in all (msg_blocks_too_long); a digest part stays well inside both.
PART_BLOCKS = 48
PART_TEXT = 10_000
TEXT_LIMIT = 3_900  # the `text` fallback (notifications) stays under Slack's 4,000


def _age(since: datetime | None, now: datetime) -> str:
    if since is None:
        return "-"
    hours = (now - since).total_seconds() / 3600
    return f"{hours:.0f} h" if hours < 48 else f"{hours / 24:.0f} days"


def _bytes(n: int) -> str:
    size = float(n)
    for unit in ("B", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{n} B"


def _rehearsal_line(r: RehearsalStatus, budget_s: float) -> str:
    if r.last is None:
        last = "never rehearsed"
    else:
        flag = f" :warning: over the {budget_s:g} s budget" if r.over_budget else ""
        last = (f"last {at(r.last.opened_at)}, time to rollback {ttr_brief(r.last)}{flag}, "
                f"confirmation {r.last.confirmation or 'not run'}")
    due = f" · :alarm_clock: *overdue*: {r.why}" if r.due else f" · {r.why}"
    return f"Rehearsal: {last}{due}"


def _coverage_line(m: ModelDigest) -> str:
    c = m.coverage
    if c.ratio is None:
        return f"Attribution: {c.attributed} requests attributed in 24 h (no baseline yet)"
    text = (f"Attribution: {c.attributed} requests attributed in 24 h, {c.ratio:.0%} of the "
            f"7-day daily mean ({c.baseline:.0f})")
    return f":warning: {text}: *falling*, serving may have stopped attributing" \
        if c.falling else text


def _model_blocks(m: ModelDigest, now: datetime) -> list[Block]:
    prod = f"`{m.production.short}` for {_age(m.production_since, now)}" \
        if m.production else "none yet"
    lines = [f"*{m.model}* · production {prod}"]
    for e in m.moves:
        lines.append(f"• {e.play}: `{short(m.model, e.from_version) if e.from_version else '-'}`"
                     f" → `{short(m.model, e.to_version)}` by {user(e.actor)} {at(e.at)}")
    for i in m.incidents:
        lines.append(f"• :rotating_light: incident `{i.id}`: time to rollback "
                     f"{ttr_brief(i)} ({esc(i.symptom) or 'no symptom given'})")
    for i in m.rehearsals:
        over = " :warning: over budget" if i.over_budget(m.budget_s) else ""
        lines.append(f"• rehearsal `{i.id}`: time to rollback {ttr_brief(i)}{over}")
    for r in m.pending:
        lines.append(f"• :hourglass: approval `{r.id}` pending for `{short(m.model, r.version_id)}`"
                     f" ({len(r.approvals)}/{r.required}), expires {at(r.expires_at)}")
    for tag, v in m.expiring:
        lines.append(f"• :hourglass_flowing_sand: `{tag}` (`{v.short}`) expires {at(v.expires_at)}")
    for version, n in m.outside[:5]:
        lines.append(f"• :warning: `{version}` served {n:,} requests with no tag pointing at "
                     "it (outside the registry)")
    lines.append(_rehearsal_line(m.rehearsal, m.budget_s))
    lines.append(_coverage_line(m))
    return [section("\n".join(lines))]


def _fallback(text: str) -> str:
    return text if len(text) <= TEXT_LIMIT else text[:TEXT_LIMIT - 1].rstrip("; ") + "…"


def digest_messages(d: Digest, channel_label: str,
                    zone: tzinfo | None = None) -> list[Message]:
    """The digest as Slack takes it: the first message (header, the day's note, the last GC,
    then as many models as fit), and, when the models do not fit in one message, the rest in
    further parts (posted in the first one's thread), each within Slack's limits on blocks
    and on text. `zone`: the digest's time zone, for the date in its header (default UTC)."""
    day = f"{d.at.astimezone(zone or UTC):%Y-%m-%d}"
    lead: list[Block] = [header(f"Daily digest · {day}")]
    if d.quiet:
        lead.append(context("A quiet day: no moves, incidents, pending approvals or overdue "
                            "rehearsals."))
    if d.last_gc is not None:
        freed = int(d.last_gc.get("bytes_freed", 0))
        count = len(d.last_gc.get("collected", []))
        lead.append(context(f"Last GC {at(d.last_gc.get('at'))}: {count} versions' artifacts "
                            f"removed, {_bytes(freed)} freed"))
    else:
        lead.append(context("No GC cycle has run yet."))
    parts: list[list[Block]] = [lead]
    names: list[list[str]] = [[]]
    for m in d.models:
        blocks = [*_model_blocks(m, d.at), divider()]
        part = parts[-1]
        if len(part) + len(blocks) > PART_BLOCKS or \
                block_text(part) + block_text(blocks) > PART_TEXT:
            parts.append([])
            names.append([])
        parts[-1] += blocks
        names[-1].append(m.model)
    summary = "; ".join(f"{m.model}: production {m.production.short if m.production else 'none'}"
                        for m in d.models) or "no models"
    if len(parts) > 1:
        lead.insert(1, context(f"{len(d.models)} models in {len(parts)} parts: the others "
                               "follow in this thread."))
    messages = [message(_fallback(f"Daily digest for {channel_label}: {summary}"), parts[0])]
    for n, (blocks, models) in enumerate(zip(parts[1:], names[1:], strict=True), start=2):
        note = context(f"Daily digest · {day} · part {n} of {len(parts)}")
        messages.append(message(_fallback(f"Daily digest for {channel_label}, part {n}: "
                                          + ", ".join(models)), [note, *blocks]))
    return messages


def rehearsal_reminder(status: RehearsalStatus, budget_s: float) -> Message:
    model = status.model
    blocks = [
        section(f":alarm_clock: *{model}* is due a rollback rehearsal: {status.why}.\n"
                "An unrehearsed rollback decays into a hope. A rehearsal rolls back the "
                "`rehearsal` tag (never `production`) and times it against the "
                f"{budget_s:g} s budget."),
        actions(f"rehearse:{model}", button("Run rehearsal now", REHEARSE_ACTION, model,
                                            style="primary")),
        context(f"Or type `{command('rehearse')} {model}`."),
    ]
    return message(f"{model} is due a rollback rehearsal: {status.why}", blocks)


def rehearsal_done(result: RehearsalResult) -> Message:
    i = result.incident
    verdict = (f":warning: *over* the {result.budget_s:g} s budget" if result.over_budget
               else f":white_check_mark: within the {result.budget_s:g} s budget")
    text = (f"Rehearsal of {i.model} done: time to rollback {i.time_to_rollback_s:.2f} s, "
            f"{verdict}; confirmation {i.confirmation or 'not run'}")
    waiting = (" The serving client following `rehearsal` has not switched yet: the record "
               "above updates when it does, and the budget counts until then."
               if result.awaiting_follower else "")
    return message(text, [section(
        f"🎭 *Rehearsal of {i.model} done*: `{result.production.short}` → "
        f"`{result.target.short}` on the `rehearsal` tag in {i.time_to_rollback_s:.2f} s, "
        f"{verdict}. Confirmation: {i.confirmation or 'not run'}. Production was not touched."
        + waiting)])


def gc_report(collected: list[str], freed: int) -> Message:
    """`collected`: the short ids (`model@hex`) of the versions whose artifacts went."""
    names = ", ".join(f"`{ref}`" for ref in collected[:30])
    more = f" and {len(collected) - 30} more" if len(collected) > 30 else ""
    text = f"GC cycle: removed the artifacts of {len(collected)} versions, {_bytes(freed)} freed"
    return message(text, [section(f":broom: {text}: {names}{more}. Their records, scores and "
                                  "lineage are kept.")])


def experiment_warning(tag: str, version: Version, now: datetime) -> Message:
    left = _age(now, version.expires_at) if version.expires_at else "-"
    text = (f"{version.model} `{tag}` ({version.short}) expires {at(version.expires_at)}, "
            f"in {left}")
    return message(text, [section(
        f":hourglass_flowing_sand: Experiment `{tag}` of *{version.model}* (`{version.short}`) "
        f"expires {at(version.expires_at)} (in {left}). After that GC may remove its artifacts; "
        "promote the winner through the normal promotion before then.")])
