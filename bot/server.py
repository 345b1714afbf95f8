"""`playbook serve`: one ASGI app with the Slack endpoint and the HTTP API side by side, and
the outbox dispatcher that delivers the consequences of every play.

Built by a factory from a composed App; nothing is created at import time. A high-stakes
promotion asked for over HTTP or from the CLI gets the same approval card in the model's
release channel as one asked for in Slack: the card is a consequence of the play's event.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable
from typing import Literal

from fastapi import FastAPI

from bot import api, bootstrap, consequences, slack
from bot.bootstrap import App
from bot.dispatcher import OutboxRunner
from bot.slack.runtime import SlackRuntime
from core.errors import StorageError


def create_asgi(app: App, *, with_slack: bool = True,
                slack_runtime: SlackRuntime | None = None, scheduler: bool = True,
                api_settings: api.ApiSettings | None = None) -> FastAPI:
    """`with_slack` mounts /slack/events; `slack_runtime` (socket mode) is one built apart.
    The outbox dispatcher and the scheduler (GC cycle, expiry sweep; with Slack also digests
    and reminders) run while the app is up, in every mode, unless `scheduler` is False.
    `api_settings` default to the environment's."""
    asgi = FastAPI(title="Playbook", version="0.1.0",
                   description="AI model version control: registry, plays, audit.")
    asgi.include_router(api.build_router(app, api_settings))
    if with_slack:
        slack.mount(asgi, app)
        slack_runtime = asgi.state.slack
    _run_dispatcher(asgi, app, slack_runtime)
    if scheduler:
        _run_scheduler(asgi, app)
    return asgi


Mode = Literal["slack", "socket", "http-only", "sandbox"]
FACTORY = "bot.server:from_env"
log = logging.getLogger("playbook.serve")


def prepare_schema(app: App, *, sandbox: bool) -> None:
    """The sandbox, --migrate and PLAYBOOK_MIGRATE migrate; otherwise a schema this Playbook
    cannot run on stops start-up, naming what is needed. A database that does not answer
    does not: the server starts, /livez answers and /readyz says 503 until it does."""
    if sandbox or app.settings.migrate:
        app.migrate()
        return
    try:
        app.check_schema()  # SchemaNotCurrent (not a StorageError) stops start-up
    except StorageError as exc:
        log.warning("the database does not answer at start-up; serving anyway, /readyz "
                    "answers 503 until it does: %s", exc)


def serving_asgi(app: App, mode: Mode) -> FastAPI:
    """The ASGI app of one serving mode (not the sandbox); closes what it opened on shutdown."""
    if mode == "socket":
        socket = slack.start_socket_mode(app)
        asgi = create_asgi(app, with_slack=False, slack_runtime=socket.runtime)
        asgi.router.on_shutdown.append(socket.close)
    else:
        asgi = create_asgi(app, with_slack=mode == "slack")
    asgi.router.on_shutdown.insert(0, _bounded_shutdown(app.settings.env.shutdown_timeout_s))
    asgi.router.on_shutdown.append(app.close)
    return asgi


def from_env() -> FastAPI:
    """The ASGI factory: every setting from the environment (README, Configuration).

        uvicorn --factory bot.server:from_env --host 0.0.0.0 --port 8080
        gunicorn -k bot.workers.UvicornWorker 'bot.server:from_env()'

    PLAYBOOK_SERVE_MODE picks the role (slack, socket or http-only; default slack when the
    Slack secrets are set, else http-only). `playbook serve --workers N` starts its worker
    processes through this factory too."""
    from bot.settings import load_settings
    from bot.shared import logs

    settings = load_settings()
    logs.configure(settings.env.log_level, settings.env.log_format)
    app = bootstrap.build(settings, schema="leave")
    try:
        prepare_schema(app, sandbox=False)
        env = settings.env
        mode: Mode = env.serve_mode or (
            "slack" if env.slack_bot_token or env.slack_signing_secret else "http-only")
        return serving_asgi(app, mode)
    except BaseException:
        app.close()
        raise


def run(app: App, mode: Mode, *, host: str, port: int, workers: int = 1, seed: bool = False,
        why: str | None = None) -> None:
    """Serve until stopped: the Slack endpoint over HTTP (`slack`), Slack over a WebSocket
    (`socket`), the HTTP API alone (`http-only`) or the local sandbox (`sandbox`). With
    `workers` > 1, that many processes share the port, each built by `from_env` from the
    settings this process exported."""
    import uvicorn

    if mode == "sandbox":
        from bot.sandbox.serving import serve_sandbox

        serve_sandbox(app, host=host, port=port, with_seed=seed, why=why or "")
        return
    grace = app.settings.env.shutdown_timeout_s
    if workers > 1:
        from bot.settings import export

        export(app.settings, PLAYBOOK_SERVE_MODE=mode, PLAYBOOK_MIGRATE="")
        uvicorn.run(FACTORY, factory=True, workers=workers, host=host, port=port,
                    timeout_graceful_shutdown=grace, log_config=None)
        return
    uvicorn.run(serving_asgi(app, mode), host=host, port=port,
                timeout_graceful_shutdown=grace,
                log_config=None)  # our handlers (bot.shared.logs), not uvicorn's


def _bounded_shutdown(bound_s: float) -> Callable[[], None]:
    """Open requests had PLAYBOOK_SHUTDOWN_TIMEOUT_S to finish (uvicorn's bound); what runs
    in the background (a delivery, a Slack play, an eval) gets as long again, then the process
    exits anyway. Nothing is lost by that: unfinished deliveries and Slack requests are leased
    in the database and another replica, or this one restarted, takes them over."""

    def arm() -> None:
        def overdue() -> None:
            log.warning("shutdown still busy after %.0f s; exiting now (unfinished work is "
                        "taken over by another replica when its lease ends)", bound_s)
            logging.shutdown()
            os._exit(1)

        timer = threading.Timer(bound_s, overdue)
        timer.daemon = True
        timer.start()

    return arm


def _run_dispatcher(asgi: FastAPI, app: App, runtime: SlackRuntime | None) -> None:
    """Every consequence of every play, whichever surface or process started it, goes out
    from here. Without Slack, deliveries to Slack wait for a replica that has it
    (`playbook outbox` shows them; `playbook outbox skip notify` closes them)."""
    runner = OutboxRunner(consequences.dispatcher(app, runtime))
    asgi.state.outbox = runner

    def start() -> None:
        app.events_written.connect(runner.nudge)
        runner.start()

    def stop() -> None:
        app.events_written.disconnect(runner.nudge)
        runner.stop()

    asgi.router.on_startup.append(start)
    asgi.router.on_shutdown.insert(0, stop)  # before the Slack runtime closes


def _run_scheduler(asgi: FastAPI, app: App) -> None:
    """Every mode runs it; what it finds due to post goes out through the outbox."""
    from bot.scheduler.service import Scheduler

    jobs = Scheduler(app)
    asgi.state.scheduler = jobs
    asgi.router.on_startup.append(jobs.start)
    asgi.router.on_shutdown.insert(0, jobs.shutdown)
