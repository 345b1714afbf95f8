"""What the page offers to try in each channel ("Try here"), worked out from the registry as
it is now, each time the page asks: a version that `/promote` would accept (newest first; not
production, not one an incident rolled back from, scored within the model's bar), a
`/rollback` only where production has a known-good version to return to, and the digest.
A restart, a promotion or a rollback never leaves a stale suggestion behind."""

from __future__ import annotations

from collections.abc import Callable

from core import queries
from core.config import ModelPolicy
from core.domain import Tag
from core.engine import PlayContext
from core.errors import PlaybookError
from core.plays.common import gate

RECENT = 20  # versions looked at per model


def promotable(ctx: PlayContext, policy: ModelPolicy, production: Tag | None) -> str | None:
    """The newest registered version play 2 would accept now, as `model@hex`."""
    current = queries.by_ids(ctx, policy.name, [production.version_id])[0] \
        if production else None
    rolled_back = {i.bad_version for i in queries.incidents(ctx, policy.name)
                   if not i.rehearsal}
    for found in queries.versions(ctx, policy.name, limit=RECENT, kind="release"):
        version = found.version
        if version.id in rolled_back:
            continue
        try:
            gate(policy, version, current)
        except PlaybookError:
            continue
        return version.short
    return None


def tips_for(ctx: PlayContext) -> dict[str, list[str]]:
    """Channel ref (as playbook.toml names it) -> command lines worth trying there now."""
    tips: dict[str, list[str]] = {}

    def add(channel: str | None, line: str) -> None:
        if channel and line not in tips.setdefault(channel, []):
            tips[channel].append(line)

    for model in queries.overviews(ctx):
        policy = ctx.config.model(model.model)
        candidate = promotable(ctx, policy, model.production)
        if candidate:
            add(policy.release_channel, f"/promote {model.model} {candidate}")
        if model.production is not None and model.last_known_good:
            add(policy.incident_channel, f"/rollback {model.model} because answers got worse")
    for digest in ctx.config.schedule.digest:
        add(digest.channel, "/registry digest")
    return tips


def live_tips(ctx: Callable[[], PlayContext]) -> Callable[[], dict[str, list[str]]]:
    return lambda: tips_for(ctx())
