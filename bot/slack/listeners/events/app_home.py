"""App Home: on opening the Home tab, publish every model's state for that person."""

from __future__ import annotations

from typing import Any

from slack_bolt import App

from bot.slack.blocks.home import home_view
from bot.slack.errors import reports_errors
from bot.slack.runtime import SlackRuntime
from core import queries


def register(app: App, rt: SlackRuntime) -> None:
    @app.event("app_home_opened")
    @reports_errors
    def home_opened(event: dict[str, Any]) -> None:
        if event.get("tab", "home") == "home":
            rt.poster.publish_home(event["user"], home_view(queries.overviews(rt.ctx)))
