"""The local sandbox: the real Slack app, driven from a page that plays the Slack workspace.

`playbook serve --sandbox` (or `serve` without Slack secrets) makes a signing secret and a bot
token, points `SLACK_API_URL` at the stand-in mounted here, and builds the Slack app the usual
way; the app cannot tell. The page's commands and clicks reach it as signed /slack/events
requests (bot.sandbox.relay); its Web API calls change the pretend workspace
(bot.sandbox.slack_api, bot.sandbox.workspace). The page talks to bot.sandbox.routes, as
bot/sandbox/CONTRACT.md describes.
"""

from __future__ import annotations

import json
import secrets
import threading
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from fastapi import FastAPI

from bot.sandbox import routes, slack_api
from bot.sandbox.directory import build_workspace
from bot.sandbox.guard import LoopbackHostOnly
from bot.sandbox.relay import Relay
from bot.sandbox.workspace import Workspace
from core.config import PlaybookConfig

__all__ = ["Sandbox", "create_sandbox"]

# The app's manifest, read as Slack reads it when the app is installed: the sandbox knows the
# app's slash commands from there, not from the app's code.
MANIFEST = Path(__file__).resolve().parent.parent / "slack" / "manifest.json"


def slash_commands() -> list[str]:
    data = json.loads(MANIFEST.read_text(encoding="utf-8"))
    return [c["command"] for c in data["features"]["slash_commands"]]


@dataclass(frozen=True)
class Sandbox:
    workspace: Workspace
    base_url: str  # the served app, as this machine reaches it (the page's origin)
    slack_url: str  # the Web API stand-in's own loopback server (see bot.sandbox.serving)
    token: str
    secret: str
    page_token: str  # what the page sends with every change (bot.sandbox.guard)
    closing: threading.Event = field(default_factory=threading.Event)  # set: server stopping

    def env(self) -> dict[str, str]:
        """What the Slack app reads from the environment: all it knows of the sandbox. No
        command prefix (an empty value unsets it): the pretend workspace has no other app
        to collide with, and its page, tips and relay know the commands as the manifest
        declares them, unprefixed."""
        return {"SLACK_API_URL": f"{self.slack_url}{slack_api.PREFIX}/api/",
                "SLACK_BOT_TOKEN": self.token, "SLACK_SIGNING_SECRET": self.secret,
                "SLACK_COMMAND_PREFIX": ""}

    def standin(self) -> FastAPI:
        """The Web API stand-in as an app of its own, for its own server."""
        asgi = FastAPI(openapi_url=None, docs_url=None, redoc_url=None)
        asgi.include_router(slack_api.build_router(self.workspace, self.token))
        asgi.add_middleware(LoopbackHostOnly, port=urlsplit(self.slack_url).port or 80)
        return asgi

    def mount(self, asgi: FastAPI) -> None:
        """Add the page, its routes and the Web API stand-in (for the page's file links) to
        the served app."""
        relay = Relay(self.workspace, secret=self.secret, base_url=self.base_url,
                      slack_url=self.slack_url, commands=slash_commands())
        asgi.include_router(slack_api.build_router(self.workspace, self.token))
        asgi.include_router(routes.build_router(self.workspace, relay, self.closing,
                                                self.page_token))
        asgi.router.on_shutdown.append(relay.close)
        asgi.add_middleware(LoopbackHostOnly, port=urlsplit(self.base_url).port or 80)


def create_sandbox(config: PlaybookConfig, *, base_url: str, slack_url: str) -> Sandbox:
    """A fresh workspace from the config, with a token and signing secret made for this run."""
    return Sandbox(workspace=build_workspace(config), base_url=base_url.rstrip("/"),
                   slack_url=slack_url.rstrip("/"),
                   token=f"xoxb-sandbox-{secrets.token_hex(12)}",
                   secret=secrets.token_hex(32), page_token=secrets.token_urlsafe(24))
