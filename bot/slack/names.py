"""The slash commands as this workspace types them: SLACK_COMMAND_PREFIX in front of each
(`/pb-rollback`), so that they do not collide with another app's `/rollback`.

A process serves one Slack app, so the prefix is set once, where the app (or a runtime that
only posts) is built, before any listener is registered or any text rendered; the listeners
register under `command(...)` and every text that names a command asks here, so what Slack
routes and what the bot tells people to type never differ.
"""

from __future__ import annotations

from bot.shared.slack_commands import prefix_problem, slash

_prefix = ""


def use(prefix: str) -> None:
    """Name every command with this prefix from now on ("" for none)."""
    global _prefix
    problem = prefix_problem(prefix)
    if problem is not None:
        raise ValueError(f"SLACK_COMMAND_PREFIX={prefix!r}: {problem}")
    _prefix = prefix


def prefix() -> str:
    return _prefix


def command(name: str) -> str:
    """`command("rollback")`: "/rollback", or "/pb-rollback" with the prefix pb-."""
    return slash(name, _prefix)
