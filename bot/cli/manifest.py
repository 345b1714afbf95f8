"""`playbook slack manifest`: the Slack app's manifest, to paste into Slack's "Create New App
→ From an app manifest" (or an update of the app), with this workspace's command names and
request URL filled in. Needs neither playbook.toml nor a database.

The command names follow SLACK_COMMAND_PREFIX unless --prefix says otherwise, so that the app
Slack knows and the server that answers it name the commands alike; bot/slack/manifest.json is
this with no prefix and the example URL.
"""

from __future__ import annotations

import argparse
import json
from urllib.parse import urlsplit

from bot.settings import Settings
from bot.shared.render import Out
from bot.shared.slack_commands import EXAMPLE_URL, manifest, prefix_problem
from core.errors import InvalidInput

EVENTS_PATH = "/slack/events"


def request_url(given: str) -> str:
    """Where Slack sends commands, clicks and events: https only (Slack calls nothing else);
    a bare https://host gets Playbook's own path."""
    parts = urlsplit(given.strip())
    if parts.scheme != "https" or not parts.netloc:
        raise InvalidInput("--url", f"{given!r} is not an https:// URL; Slack calls only "
                                    "https:// request URLs",
                           hint=f"e.g. --url https://playbook.example.org{EVENTS_PATH} (put TLS "
                                "in front of `playbook serve`), or --socket-mode")
    if parts.path in ("", "/"):
        return parts._replace(path=EVENTS_PATH).geturl()
    return parts.geturl()


def cmd_manifest(args: argparse.Namespace, settings: Settings) -> Out:
    prefix = settings.env.slack_command_prefix if args.prefix is None else args.prefix.strip()
    problem = prefix_problem(prefix)
    if problem is not None:
        raise InvalidInput("--prefix", f"{prefix!r}: {problem}")
    url = EXAMPLE_URL if args.url is None else request_url(args.url)
    found = manifest(prefix=prefix, url=url, socket_mode=args.socket_mode)
    return Out(found, json.dumps(found, indent=2))
