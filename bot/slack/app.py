"""The factory of the Bolt app: one composed Playbook app in, a ready Bolt app out.

Sync Bolt with process_before_response=False: Bolt answers Slack as soon as a listener calls
ack() and the listener runs on in Bolt's executor; slow plays move on to the runtime's own
bounded pool (see bot.slack.background), so acks never queue behind eval runs.

Nothing before an ack calls the Web API (listeners ack first; authorization comes from the
start-up auth.test, see bot.slack.workspace_rule), so the client's retries, and their sleeps
through a 429's Retry-After, only ever hold threads whose request is already acknowledged.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from slack_bolt import App, BoltResponse
from slack_bolt.request import BoltRequest
from slack_sdk import WebClient
from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
    ServerErrorRetryHandler,
)

from bot.bootstrap import App as Playbook
from bot.dispatcher import owner_id
from bot.slack import errors, names
from bot.slack.background import CountingExecutor
from bot.slack.inbox import Inbox
from bot.slack.link import SlackLink
from bot.slack.listeners import register_listeners
from bot.slack.runtime import SlackRuntime, build_runtime
from bot.slack.settings import SlackSettings
from bot.slack.workspace_rule import FromAuthTest, OneWorkspace

LISTENER_THREADS = 32  # listeners only ack, parse and hand over; 32 absorb a burst of clicks
RATE_LIMIT_RETRIES = 3
SERVER_ERROR_RETRIES = 2


def web_client(settings: SlackSettings) -> WebClient:
    """Retries what Slack asks to be retried: 429 after its Retry-After, a 500 or 503 after a
    short backoff (0.5 s, then 1 s, each plus up to 1 s of jitter), and dropped connections.
    The handlers share one count of retries per call, so a call is tried at most
    RATE_LIMIT_RETRIES + 1 times. What still fails is the outbox's to retry, later."""
    return WebClient(token=settings.bot_token, base_url=settings.api_url, retry_handlers=[
        ConnectionErrorRetryHandler(),
        RateLimitErrorRetryHandler(max_retry_count=RATE_LIMIT_RETRIES),
        ServerErrorRetryHandler(max_retry_count=SERVER_ERROR_RETRIES)])


class _TokenGivenTwice(logging.Filter):
    """Bolt also reads SLACK_BOT_TOKEN from the environment and then warns, at every start,
    that the client's token wins, and that `authorize` makes it ignore the token; it is the
    same token everywhere here (FromAuthTest hands it back), so the lines only confuse."""

    def filter(self, record: logging.LogRecord) -> bool:
        said = record.getMessage()
        return "`token` will be unused" not in said and "will be ignored" not in said


TOKEN_GIVEN_TWICE = _TokenGivenTwice()


class InboxApp(App):
    """Bolt's App whose every dispatch (HTTP, socket mode, a resumed request) goes through
    the inbox, which must know when Bolt is done with a request."""

    inbox: Inbox

    def dispatch(self, req: BoltRequest) -> BoltResponse:
        return self.inbox.dispatch(lambda: super(InboxApp, self).dispatch(req))


def build_slack_app(playbook: Playbook, settings: SlackSettings) -> tuple[App, SlackRuntime]:
    """The token is checked with auth.test here: refused, start-up stops; Slack down, the app
    starts degraded and keeps trying (bot.slack.link). What auth.test answers decides which
    requests are accepted and authorizes them (bot.slack.workspace_rule)."""
    logging.getLogger("slack_bolt.App").addFilter(TOKEN_GIVEN_TWICE)
    names.use(settings.command_prefix)  # before any listener registers under its name
    client = web_client(settings)
    link = SlackLink(client, settings.api_url,
                     lambda status: playbook.dependencies.__setitem__("slack", status))
    link.check_at_start()
    inbox = Inbox(playbook.ctx.uow, playbook.ctx.clock, owner_id(),
                  timedelta(seconds=settings.lease_s))
    listeners = CountingExecutor(LISTENER_THREADS, "slack-listener", inbox)
    bolt = InboxApp(signing_secret=settings.signing_secret or "", client=client,
                    process_before_response=False, listener_executor=listeners,
                    before_authorize=OneWorkspace(link),
                    authorize=FromAuthTest(link, settings.bot_token))
    bolt.inbox = inbox
    rt = build_runtime(playbook, client, settings.workers, listeners, inbox, link)
    errors.register(bolt)
    bolt.use(inbox.middleware)
    register_listeners(bolt, rt)
    inbox.start(bolt)
    return bolt, rt


def posting_runtime(playbook: Playbook, settings: SlackSettings) -> SlackRuntime:
    """A runtime that only posts (the CLI's digest and rehearsal): no Bolt app, no listeners."""
    names.use(settings.command_prefix)  # its posts name commands as the workspace types them
    return build_runtime(playbook, web_client(settings), 1, CountingExecutor(1, "slack-cli"))
