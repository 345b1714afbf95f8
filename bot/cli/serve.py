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
from core.errors import ConfigError, InvalidInput

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


def port_free(host: str, port: int) -> None:
    """Refuse, in one line with the way out, a port another process holds (instead of the
    server's traceback after start-up)."""
    import errno
    import socket

    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            other = port + 1 if port < 65535 else 8081
            if exc.errno == errno.EADDRINUSE:
                raise ConfigError(
                    f"port {port} on {host} is in use by another process",
                    hint=f"stop that process, or serve on another port: --port {other} "
                         f"(PLAYBOOK_PORT={other}; with make: PORT={other} make run)") from exc
            if exc.errno == errno.EACCES:
                raise ConfigError(f"port {port} on {host} needs privileges this user lacks",
                                  hint="use a port above 1023, e.g. --port 8080") from exc
            raise ConfigError(f"cannot listen on {host}:{port}: {exc.strerror}",
                              hint="check --host (an address of this machine) and --port"
                              ) from exc


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
    host, port = args.host or env.host, args.port or env.port
    port_free(host, port)
    server.prepare_schema(app, sandbox=why is not None)
    server.run(app, mode, host=host, port=port, workers=workers, seed=args.seed, why=why)
    return Out({}, "stopped")
