"""The factory of the Bolt app: one composed Playbook app in, a ready Bolt app out.

Sync Bolt with process_before_response=False: Bolt answers Slack as soon as a listener calls
ack() and the listener runs on in Bolt's executor; slow plays move on to the runtime's own
bounded pool (see bot.slack.background), so acks never queue behind eval runs.
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
)

from bot.bootstrap import App as Playbook
from bot.dispatcher import owner_id
from bot.slack import errors
from bot.slack.background import CountingExecutor
from bot.slack.inbox import Inbox
from bot.slack.link import SlackLink
from bot.slack.listeners import register_listeners
from bot.slack.runtime import SlackRuntime, build_runtime
from bot.slack.settings import SlackSettings

LISTENER_THREADS = 32  # listeners only ack, parse and hand over; 32 absorb a burst of clicks
RATE_LIMIT_RETRIES = 3


def web_client(settings: SlackSettings) -> WebClient:
    """Retries what Slack asks to be retried: 429 after Retry-After, and dropped connections."""
    return WebClient(token=settings.bot_token, base_url=settings.api_url, retry_handlers=[
        ConnectionErrorRetryHandler(),
        RateLimitErrorRetryHandler(max_retry_count=RATE_LIMIT_RETRIES)])


class _TokenGivenTwice(logging.Filter):
    """Bolt also reads SLACK_BOT_TOKEN from the environment and then warns, at every start,
    that the client's token wins; both are the same token here, so the line only confuses."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "`token` will be unused" not in record.getMessage()


TOKEN_GIVEN_TWICE = _TokenGivenTwice()


class InboxApp(App):
    """Bolt's App whose every dispatch (HTTP, socket mode, a resumed request) goes through
    the inbox, which must know when Bolt is done with a request."""

    inbox: Inbox

    def dispatch(self, req: BoltRequest) -> BoltResponse:
        return self.inbox.dispatch(lambda: super(InboxApp, self).dispatch(req))


def build_slack_app(playbook: Playbook, settings: SlackSettings) -> tuple[App, SlackRuntime]:
    """The token reaches Bolt through the client (Bolt takes it from there). It is checked
    with auth.test here: refused, start-up stops; Slack down, the app starts degraded and
    keeps trying (bot.slack.link)."""
    logging.getLogger("slack_bolt.App").addFilter(TOKEN_GIVEN_TWICE)
    client = web_client(settings)
    link = SlackLink(client, settings.api_url,
                     lambda status: playbook.dependencies.__setitem__("slack", status))
    link.check_at_start()
    inbox = Inbox(playbook.ctx.uow, playbook.ctx.clock, owner_id(),
                  timedelta(seconds=settings.lease_s))
    listeners = CountingExecutor(LISTENER_THREADS, "slack-listener", inbox)
    bolt = InboxApp(signing_secret=settings.signing_secret or "", client=client,
                    process_before_response=False, listener_executor=listeners,
                    token_verification_enabled=False)  # bot.slack.link checked it
    bolt.inbox = inbox
    rt = build_runtime(playbook, client, settings.workers, listeners, inbox, link)
    errors.register(bolt)
    bolt.use(inbox.middleware)
    register_listeners(bolt, rt)
    inbox.start(bolt)
    return bolt, rt


def posting_runtime(playbook: Playbook, settings: SlackSettings) -> SlackRuntime:
    """A runtime that only posts (the CLI's digest and rehearsal): no Bolt app, no listeners."""
    return build_runtime(playbook, web_client(settings), 1, CountingExecutor(1, "slack-cli"))
