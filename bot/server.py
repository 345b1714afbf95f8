"""`playbook serve`: one ASGI app with the Slack endpoint and the HTTP API side by side.

Built by a factory from a composed App; nothing is created at import time. A high-stakes
promotion asked for over HTTP gets the same approval card in the model's release channel as one
asked for in Slack.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from functools import partial

from fastapi import FastAPI

from bot import api, slack
from bot.bootstrap import App
from bot.slack.incidents import post_incident
from bot.slack.runtime import SlackRuntime
from core.domain import ApprovalRequest, Incident

log = logging.getLogger(__name__)


def create_asgi(app: App, *, with_slack: bool = True,
                slack_runtime: SlackRuntime | None = None, scheduler: bool = True,
                api_settings: api.ApiSettings | None = None) -> FastAPI:
    """`with_slack` mounts /slack/events; `slack_runtime` (socket mode) is one built apart.
    With Slack, the scheduler (digests, reminders, GC cycle, expiry sweep) runs while the app
    is up, unless `scheduler` is False. `api_settings` default to the environment's."""
    asgi = FastAPI(title="Playbook", version="0.1.0",
                   description="AI model version control: registry, plays, audit.")
    listeners: list[Callable[[ApprovalRequest], None]] = []
    incidents: list[Callable[[Incident], None]] = []
    asgi.include_router(api.build_router(app, api_settings, approval_listeners=listeners,
                                         incident_listeners=incidents))
    if with_slack:
        slack.mount(asgi, app)
        slack_runtime = asgi.state.slack
    if slack_runtime is not None:
        listeners.append(card_poster(app, slack_runtime))
        incidents.append(incident_poster(slack_runtime))
        if scheduler:
            _run_scheduler(asgi, slack_runtime)
    return asgi


def incident_poster(runtime: SlackRuntime) -> Callable[[Incident], None]:
    """A rollback over HTTP (a pager script, a CI job) gets the same incident record in the
    model's incident channel as `/rollback`, posted in the background."""
    def post(incident: Incident) -> None:
        runtime.work.submit(partial(post_incident, runtime, incident), None)

    return post


def _run_scheduler(asgi: FastAPI, runtime: SlackRuntime) -> None:
    from bot.scheduler.service import Scheduler

    jobs = Scheduler(runtime)
    asgi.state.scheduler = jobs
    asgi.router.on_startup.append(jobs.start)
    asgi.router.on_shutdown.insert(0, jobs.shutdown)


def card_poster(app: App, runtime: SlackRuntime) -> Callable[[ApprovalRequest], None]:
    """A new request gets its card; a request decided over HTTP has its card updated."""
    def post_card(request: ApprovalRequest) -> None:
        if runtime.cards.where(request.id) is not None:
            runtime.cards.refresh(request.id)
            return
        channel = app.config.model(request.model).release_channel
        if channel is None:
            log.warning("approval request %s: %s has no release_channel; no card posted",
                        request.id, request.model)
            return
        runtime.cards.post(request.id, channel)

    return post_card
