"""`playbook serve`: run the Slack endpoint and the HTTP API.

Over HTTP, Slack calls POST /slack/events (needs a public URL). With --socket-mode the Slack
app connects out to Slack over a WebSocket instead (SLACK_APP_TOKEN), for workspaces without a
public URL; the HTTP API is still served on --host/--port. A missing secret stops start-up
with an error naming the variable, before anything listens.
"""

from __future__ import annotations

import argparse
from typing import Any

from bot.bootstrap import App
from bot.cli.render import Out


def cmd_serve(args: argparse.Namespace, app: App) -> Out:
    import uvicorn

    from bot.server import create_asgi
    from bot.slack import load_slack_settings, start_socket_mode

    if args.http_only:
        uvicorn.run(create_asgi(app, with_slack=False), host=args.host, port=args.port)
        return Out({}, "stopped")
    if not args.socket_mode:
        uvicorn.run(create_asgi(app), host=args.host, port=args.port)
        return Out({}, "stopped")
    socket = start_socket_mode(app, load_slack_settings(socket_mode=True))
    try:
        uvicorn.run(create_asgi(app, with_slack=False, slack_runtime=socket.runtime),
                    host=args.host, port=args.port)
    finally:
        socket.close()
    return Out({}, "stopped")


def add_parsers(sub: Any) -> None:
    p = sub.add_parser("serve", help="run the Slack app and the HTTP API")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8080)
    p.add_argument("--socket-mode", action="store_true",
                   help="reach Slack over a WebSocket (SLACK_APP_TOKEN) instead of a public "
                        "URL; the HTTP API still listens on --host/--port")
    p.add_argument("--http-only", action="store_true",
                   help="serve only the HTTP API (no Slack secrets needed); approval cards "
                        "are then not posted")
    p.set_defaults(handler=cmd_serve)
