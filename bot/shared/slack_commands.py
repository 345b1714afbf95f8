"""The Slack app's slash commands and its manifest, in one place: what each command is called,
does and takes, and the prefix a workspace may put in front of every one
(SLACK_COMMAND_PREFIX=pb- makes `/rollback` `/pb-rollback`), since `/rollback` or `/audit` may
well be another app's already.

Plain data and checks, no Slack import: the Slack app registers and names its commands from
here (bot.slack.names), `playbook slack manifest` prints the manifest from here, and
bot.settings refuses a prefix Slack would refuse. bot/slack/manifest.json is `manifest()` with
no prefix, written out (a test keeps the two equal).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

COMMAND_LIMIT = 32  # Slack's longest slash command, its "/" included
EXAMPLE_URL = "https://playbook.example.com/slack/events"


@dataclass(frozen=True)
class SlashCommand:
    name: str  # as the listener knows it: no "/", no prefix
    description: str  # the manifest's, shown in Slack's command menu
    usage: str  # what follows the command
    example: str  # what might follow it, for refusals and `/registry help`


COMMANDS = (
    SlashCommand("rollback", "Play 3: roll a model back to its last known-good version "
                             "(incident channel)",
                 "<model> [to <version>] [because <symptom>]",
                 "chat because answers are empty"),
    SlashCommand("promote", "Play 2: promote a version to production (approval card for high "
                            "stakes)",
                 "<model> <version> [override <why>] [because <reason>]",
                 "chat chat@1a2b3c4d because better recall"),
    SlashCommand("experiment", "Play 4: branch an experiment from a registered version",
                 '<model> <name> from <version> [prompt "<text>"] [config key=value ...] '
                 "[weights <ref>] [index <ref>] [because <reason>]",
                 'chat terse from chat@1a2b3c4d prompt "Answer briefly." '
                 "because shorter answers"),
    SlashCommand("audit", "Play 5: which version served a request, with its full record",
                 "<request-id>", "req-8f2c01"),
    SlashCommand("investigate", "Play 7: investigate a regression, with a Roll back button",
                 "<model> [since <time>]", "chat since 2h ago"),
    SlashCommand("rehearse", "Rehearse a rollback on the rehearsal tag, timed",
                 "<model>", "chat"),
    SlashCommand("registry", "Read the registry: versions, show, history, diff, gc, digest, "
                             "help",
                 "versions|show|history|diff|gc|digest|help ...", "versions chat"),
)
BY_NAME = {c.name: c for c in COMMANDS}
MAX_PREFIX = COMMAND_LIMIT - 1 - max(len(c.name) for c in COMMANDS)
PREFIX_RULE = re.compile(r"[a-z0-9][a-z0-9_-]*")
PREFIX_ALLOWED = (f"lowercase letters, digits, '-' or '_', starting with a letter or digit, "
                  f"at most {MAX_PREFIX} characters (e.g. pb-, which makes /rollback "
                  "/pb-rollback); empty for none")


def prefix_problem(prefix: str) -> str | None:
    """What is wrong with a command prefix, in plain words; None when Slack takes it."""
    if prefix == "":
        return None
    if len(prefix) > MAX_PREFIX:
        longest = max(COMMANDS, key=lambda c: len(c.name)).name
        return (f"too long: /{prefix}{longest} would be over Slack's {COMMAND_LIMIT} "
                f"characters for a command; at most {MAX_PREFIX} characters")
    if not PREFIX_RULE.fullmatch(prefix):
        return f"must be {PREFIX_ALLOWED}"
    return None


def slash(name: str, prefix: str = "") -> str:
    """A command as typed in Slack: `slash("rollback", "pb-")` is "/pb-rollback"."""
    if name not in BY_NAME:
        raise ValueError(f"no slash command {name!r} (known: {', '.join(BY_NAME)})")
    return f"/{prefix}{name}"


def manifest(*, prefix: str = "", url: str = EXAMPLE_URL,
             socket_mode: bool = False) -> dict[str, Any]:
    """The app manifest to create or update the Slack app from. Over HTTP, commands, clicks
    and events all go to `url`; in Socket Mode Slack needs no URL at all."""
    problem = prefix_problem(prefix)
    if problem is not None:
        raise ValueError(f"command prefix {prefix!r}: {problem}")
    at = {} if socket_mode else {"url": url}
    request_url = {} if socket_mode else {"request_url": url}
    return {
        "_metadata": {"major_version": 1, "minor_version": 1},
        "display_information": {
            "name": "Playbook",
            "description": "Version control for AI models: rollback, promote, audit from Slack",
            "long_description": (
                "Playbook runs the seven plays of AI model version control: register, promote "
                "(with a second approver for high stakes), emergency rollback, experiment, "
                "audit, garbage collection and regression investigation. On-call engineers "
                "roll back with one command in the incident channel; reviewers approve "
                "promotions with a button; the App Home shows every model's production "
                "version, pending approvals, incidents and rehearsals."),
            "background_color": "#1d3557",
        },
        "features": {
            "app_home": {"home_tab_enabled": True, "messages_tab_enabled": True,
                         "messages_tab_read_only_enabled": True},
            "bot_user": {"display_name": "Playbook", "always_online": True},
            "slash_commands": [
                {"command": slash(c.name, prefix), **at, "description": c.description,
                 "usage_hint": c.usage, "should_escape": False} for c in COMMANDS],
        },
        "oauth_config": {"scopes": {"bot": [
            "commands", "chat:write", "chat:write.public", "channels:read", "groups:read",
            "usergroups:read", "files:write"]}},
        "settings": {
            "event_subscriptions": {**request_url, "bot_events": ["app_home_opened"]},
            "interactivity": {"is_enabled": True, **request_url},
            "org_deploy_enabled": False,
            "socket_mode_enabled": socket_mode,
            "token_rotation_enabled": False,
        },
    }
