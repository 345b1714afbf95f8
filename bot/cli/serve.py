"""`playbook serve`: run the Slack endpoint and the HTTP API.

Over HTTP, Slack calls POST /slack/events (needs a public URL). With --socket-mode the Slack
app connects out to Slack over a WebSocket instead (SLACK_APP_TOKEN), for workspaces without a
public URL; the HTTP API is still served on --host/--port. A missing secret stops start-up
with an error naming the variable, before anything listens.

With --sandbox, or without SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET at all, it serves the local
sandbox instead (bot.sandbox): a page at / that plays the Slack workspace for the same app.
"""

from __future__ import annotations

import argparse

from bot.bootstrap import App
from bot.settings import Environment
from bot.shared.render import Out
from core.errors import InvalidInput

SECRETS = ("SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET")
AUTO_SANDBOX = ("playbook: SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET are not set, so this is "
                "the local sandbox: a pretend Slack workspace in your browser. To connect a real "
                "workspace, export both (docs/slack.md); --http-only serves the HTTP API alone.")
SANDBOX = "playbook: the local sandbox (--sandbox): a pretend Slack workspace in your browser."


def sandbox_reason(args: argparse.Namespace, env: Environment) -> str | None:
    """Why this run is the sandbox, or None when it is not one."""
    if args.sandbox:
        return SANDBOX
    if not args.http_only and not args.socket_mode and not env.serve_mode \
            and not (env.slack_bot_token or env.slack_signing_secret):
        return AUTO_SANDBOX
    if args.seed:
        raise InvalidInput("--seed", "it fills the sandbox's registry with example versions, "
                                     "and this is not the sandbox", hint="add --sandbox")
    return None


def configure_logging(env: Environment) -> None:
    """Logs on stderr at PLAYBOOK_LOG_LEVEL (WARNING by default; INFO shows every play run,
    every scheduled post and which replica made it), JSON lines unless on a terminal."""
    from bot.shared import logs

    logs.configure(env.log_level, env.log_format)


def cmd_serve(args: argparse.Namespace, app: App) -> Out:
    from bot import server

    configure_logging(app.settings.env)
    env = app.settings.env
    why = sandbox_reason(args, env)
    mode: server.Mode = "sandbox" if why is not None else "http-only" if args.http_only \
        else "socket" if args.socket_mode else env.serve_mode or "slack"
    workers = args.workers or env.workers
    if workers > 1 and mode == "sandbox":
        raise InvalidInput("--workers", "the sandbox runs in one process",
                           hint="leave --workers (and PLAYBOOK_WORKERS) out with the sandbox")
    server.prepare_schema(app, sandbox=why is not None)
    server.run(app, mode, host=args.host or env.host, port=args.port or env.port,
               workers=workers, seed=args.seed, why=why)
    return Out({}, "stopped")
