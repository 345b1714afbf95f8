"""`playbook serve`: one ASGI app with the Slack endpoint and the HTTP API side by side, and
the outbox dispatcher that delivers the consequences of every play.

Built by a factory from a composed App; nothing is created at import time. A high-stakes
promotion asked for over HTTP or from the CLI gets the same approval card in the model's
release channel as one asked for in Slack: the card is a consequence of the play's event.
"""

from __future__ import annotations

from typing import Literal

from fastapi import FastAPI

from bot import api, consequences, slack
from bot.bootstrap import App
from bot.dispatcher import OutboxRunner
from bot.slack.runtime import SlackRuntime


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


def run(app: App, mode: Mode, *, host: str, port: int, seed: bool = False,
        why: str | None = None) -> None:
    """Serve until stopped: the Slack endpoint over HTTP (`slack`), Slack over a WebSocket
    (`socket`), the HTTP API alone (`http-only`) or the local sandbox (`sandbox`)."""
    import uvicorn

    if mode == "sandbox":
        from bot.sandbox.serving import serve_sandbox

        serve_sandbox(app, host=host, port=port, with_seed=seed, why=why or "")
        return
    if mode != "socket":
        uvicorn.run(create_asgi(app, with_slack=mode == "slack"), host=host, port=port,
                    log_config=None)  # our handlers (bot.shared.logs), not uvicorn's
        return
    socket = slack.start_socket_mode(app)
    try:
        uvicorn.run(create_asgi(app, with_slack=False, slack_runtime=socket.runtime),
                    host=host, port=port, log_config=None)
    finally:
        socket.close()


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
