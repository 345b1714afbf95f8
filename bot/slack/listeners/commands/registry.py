"""`/registry versions|show|history|diff|gc|digest|help`: reading the registry (answers only
the asker), play 6, garbage collection, and the daily digest on demand (both posted in the
channel)."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App, Respond

from bot.slack import names, parse
from bot.slack.blocks.common import Message
from bot.slack.blocks.common import channel as channel_text
from bot.slack.blocks.registry import (
    diff_message,
    gc_message,
    help_message,
    history_list,
    version_detail,
    versions_list,
)
from bot.slack.digest import compose_digest
from bot.slack.errors import reports_errors
from bot.slack.runtime import SlackRuntime
from core import queries
from core.commands import CollectGarbage
from core.plays import collect_garbage

COMMAND = "registry"


def answer(rt: SlackRuntime, q: parse.RegistryQuery) -> Message:
    """Reads of the registry, in one short unit of work."""
    if q.action == "help":
        return help_message()
    if q.action == "history":
        assert q.model is not None
        return history_list(q.model, queries.history(rt.ctx, q.model, q.tag, limit=q.limit))
    if q.action == "versions":
        assert q.model is not None
        return versions_list(q.model, queries.versions(rt.ctx, q.model, limit=q.limit))
    if q.action == "diff":
        return diff_message(queries.diff(rt.ctx, q.versions[0], q.versions[1]))
    found = queries.version(rt.ctx, q.versions[0])
    return version_detail(found.version, list(found.tags))


def _gc(rt: SlackRuntime, q: parse.RegistryQuery, actor: str, respond: Respond) -> None:
    report = collect_garbage(CollectGarbage.parse(actor=actor, model=q.model,
                                                  dry_run=q.dry_run), rt.ctx)
    respond(**gc_message(report, actor),
            response_type="ephemeral" if q.dry_run else "in_channel")


RESPONSES = 4  # Slack takes five posts to one response_url: four parts and a note


def digest_here(rt: SlackRuntime, channel_id: str | None,
                channel_name: str | None) -> list[Message]:
    """Today's digest for the models this channel's scheduled digest covers (else all), in
    as many messages as Slack needs."""
    here = next((d.channel for d in rt.config.schedule.digest
                 if rt.channels.matches(d.channel, channel_id, channel_name)),
                channel_id or "")
    return compose_digest(rt.playbook, here, channel_text(channel_id or channel_name))[1]


def register(app: App, rt: SlackRuntime) -> None:
    @app.command(names.command(COMMAND))
    @reports_errors
    def registry_command(ack: Ack, command: dict[str, Any], respond: Respond) -> None:
        ack()
        query = parse.registry(command.get("text", ""))
        if query.action == "digest":
            parts = digest_here(rt, command.get("channel_id"), command.get("channel_name"))
            for part in parts[:RESPONSES]:  # Slack takes five answers on a response_url
                respond(**part, response_type="in_channel")
            if len(parts) > RESPONSES:
                respond(f"{len(parts) - RESPONSES} more part(s) of this digest did not fit in "
                        "an answer: the scheduled digest posts every part in its thread, and "
                        "`playbook digest --print` shows them all.", response_type="ephemeral")
            return
        if query.action == "gc":
            if query.model:
                rt.config.model(query.model)
            actor = command["user_id"]
            rt.work.submit(lambda: _gc(rt, query, actor, respond), respond)
            return
        respond(**answer(rt, query), response_type="ephemeral")
