"""The Slack app: slash commands, buttons, App Home (mounted at /slack/events by bot.server).

`mount` is the HTTP entry point; `start_socket_mode` the one for workspaces without a public
URL. Both build everything through `bot.slack.app.build_slack_app` when called, never at
import.
"""

from __future__ import annotations

from typing import Protocol

from fastapi import FastAPI, Request, Response
from slack_bolt.adapter.starlette.handler import to_bolt_request, to_starlette_response
from starlette.concurrency import run_in_threadpool

from bot.bootstrap import App
from bot.slack import gate
from bot.slack.runtime import SlackRuntime
from bot.slack.settings import SlackSettings, load_slack_settings
from core.errors import ConfigError

__all__ = ["SlackSettings", "load_slack_settings", "mount", "start_socket_mode"]


def mount(asgi: FastAPI, app: App, settings: SlackSettings | None = None) -> None:
    """Build the Bolt app for this App and route POST /slack/events to it.

    Nothing in a request has any effect before its size and signature are checked
    (`bot.slack.gate`). Bolt's own Starlette adapter calls the sync `App.dispatch` inside the
    event loop, which would make every request wait for the one before it; here dispatch
    runs in the thread pool, so requests never block each other.
    """
    from bot.slack.app import build_slack_app

    settings = settings or load_slack_settings(app.settings.env)
    secret = settings.signing_secret
    if not secret:
        raise ConfigError("SLACK_SIGNING_SECRET is not set; /slack/events cannot verify "
                          "requests", hint="export it, or use --socket-mode")
    bolt, runtime = build_slack_app(app, settings)
    asgi.state.slack = runtime
    asgi.router.on_shutdown.append(runtime.close)

    async def slack_events(request: Request) -> Response:
        body = await gate.checked(request, secret)
        if isinstance(body, Response):
            return body
        answer = await run_in_threadpool(bolt.dispatch, to_bolt_request(request, body))
        return to_starlette_response(answer)

    asgi.add_api_route("/slack/events", slack_events, methods=["POST"],
                       include_in_schema=False)


class Stoppable(Protocol):
    def close(self) -> None: ...


class _SocketMode:
    def __init__(self, handler: Stoppable, runtime: SlackRuntime) -> None:
        self._handler = handler
        self._runtime = runtime
        self.runtime = runtime

    def close(self) -> None:
        self._handler.close()
        self._runtime.close()


def start_socket_mode(app: App, settings: SlackSettings | None = None) -> _SocketMode:
    """Connect to Slack over a WebSocket (SLACK_APP_TOKEN) and serve from it in the
    background; Slack needs no public URL then. Answers a handle to close it."""
    from slack_bolt.adapter.socket_mode import SocketModeHandler
    from slack_sdk.errors import SlackApiError

    from bot.slack.app import build_slack_app

    settings = settings or load_slack_settings(app.settings.env, socket_mode=True)
    assert settings.app_token, "load_slack_settings(socket_mode=True) requires it"
    bolt, runtime = build_slack_app(app, settings)
    handler = SocketModeHandler(bolt, settings.app_token)
    if runtime.link is not None and not runtime.link.up:  # Slack down: connect once it answers
        runtime.link.call_when_up(handler.connect)
        return _SocketMode(handler, runtime)
    try:
        handler.connect()  # type: ignore[no-untyped-call]
    except SlackApiError as exc:
        runtime.close()
        raise ConfigError(f"Slack refused SLACK_APP_TOKEN: {exc.response.get('error')}",
                          hint="create an App-Level Token with connections:write and enable "
                               "Socket Mode in the app's settings") from exc
    return _SocketMode(handler, runtime)
