"""`playbook serve`: one ASGI app with the Slack endpoint and the HTTP API side by side.

Built by a factory from a composed App; nothing is created at import time.
"""

from __future__ import annotations

from fastapi import FastAPI

from bot import api, slack
from bot.bootstrap import App


def create_asgi(app: App, *, with_slack: bool = True) -> FastAPI:
    asgi = FastAPI(title="Playbook", version="0.1.0",
                   description="AI model version control: registry, plays, audit.")
    asgi.include_router(api.build_router(app))
    if with_slack:
        slack.mount(asgi, app)
    return asgi
