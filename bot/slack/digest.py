"""Today's digest as a Slack message: what the schedule posts, `/registry digest` answers and
`playbook digest --now` posts or prints."""

from __future__ import annotations

from functools import partial
from zoneinfo import ZoneInfo

from bot.bootstrap import App
from bot.deploy import fingerprint_for
from bot.slack.blocks.common import Message
from bot.slack.blocks.common import channel as channel_text
from bot.slack.blocks.digest import digest_messages
from core.digest import Digest, build_digest


def compose_digest(app: App, channel: str,
                   label: str | None = None) -> tuple[Digest, list[Message]]:
    """Today's digest for `channel`: the models its [[schedule.digest]] covers (else every
    model), dated in its zone. Used by the schedule, `digest --now` and `/registry digest`."""
    schedule = app.config.schedule
    scheduled = schedule.digest_for(channel)
    zone = schedule.zone_of(scheduled) if scheduled else schedule.timezone
    digest = build_digest(app.ctx, app.config.digest_models(channel),
                          partial(fingerprint_for, app))
    return digest, digest_messages(digest, label or channel_text(channel), ZoneInfo(zone))

