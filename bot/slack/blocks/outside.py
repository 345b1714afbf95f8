"""The card for traffic served outside the registry: a version no tag pointed at answered
more requests in a day than the model's `outside_registry_alert`."""

from __future__ import annotations

from bot.slack.blocks.common import Message, context, fields, header, message, section, user
from bot.slack.names import command
from core.domain import Version
from core.events import ServedOutsideRegistry
from core.plays.outside import GRACE


def outside_registry(event: ServedOutsideRegistry, version: Version,
                     tags: tuple[str, ...]) -> Message:
    text = (f"{version.short} served {event.requests:,} requests of {event.model} on "
            f"{event.day.isoformat()} without any tag pointing at it")
    now = ", ".join(f"`{t}`" for t in tags) or "none"
    return message(text, [
        header(f"Served outside the registry: {event.model}"),
        section(f":warning: `{version.short}` served *{event.requests:,}* requests on "
                f"{event.day.isoformat()} (UTC) while no tag of {event.model} pointed at it: "
                "it was never promoted, or it kept serving after a tag moved away from it."),
        fields([("Version", f"`{version.short}`"), ("Tags on it now", now),
                ("Threshold", f"{event.threshold:,} requests a day"),
                ("Registered by", user(version.owner))]),
        context(f"Serving should follow a tag (`production`, `canary`, an experiment's); "
                f"find what serves this version and point it at one, or "
                f"`{command('promote')} {event.model} {version.short}` it properly. Requests "
                f"within {int(GRACE.total_seconds())} s of a tag move are not counted."),
    ])
