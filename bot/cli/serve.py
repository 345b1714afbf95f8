"""`playbook serve`: run the Slack endpoint and the HTTP API."""

from __future__ import annotations

import argparse
from typing import Any

from bot.bootstrap import App
from bot.cli.render import Out


def cmd_serve(args: argparse.Namespace, app: App) -> Out:
    import uvicorn

    from bot.server import create_asgi

    uvicorn.run(create_asgi(app), host=args.host, port=args.port)
    return Out({}, "stopped")


def add_parsers(sub: Any) -> None:
    p = sub.add_parser("serve", help="run the Slack app and the HTTP API")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8080)
    p.set_defaults(handler=cmd_serve)
