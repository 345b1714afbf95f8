"""The Slack app: slash commands, buttons, App Home (mounted at /slack/events by bot.server)."""

from __future__ import annotations

from fastapi import FastAPI

from bot.bootstrap import App


def mount(asgi: FastAPI, app: App) -> None:
    """Build the Bolt app for this App and route POST /slack/events to it."""
    return None
