"""What every listener shares: the composed Playbook app, the Slack client and the Slack app's
own store, posting, background work and approval cards. Built once per Bolt app by
`bot.slack.app.build_slack_app`; listeners receive it in `register(app, rt)`."""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from slack_sdk import WebClient

from bot.bootstrap import App as Playbook
from bot.slack.approvers import SlackApprovers
from bot.slack.background import BackgroundWork, CountingExecutor
from bot.slack.cards import ApprovalCards
from bot.slack.channels import ChannelDirectory
from bot.slack.inbox import Inbox
from bot.slack.link import SlackLink
from bot.slack.memory import SlackMemory
from bot.slack.posting import Poster
from core.config import PlaybookConfig
from core.engine import PlayContext
from core.errors import StorageError

DELIVERY_MEMORY = timedelta(days=1)  # Slack stops retrying within minutes


@dataclass
class SlackRuntime:
    playbook: Playbook
    client: WebClient
    store: SlackMemory
    poster: Poster
    channels: ChannelDirectory
    cards: ApprovalCards
    work: BackgroundWork
    listeners: CountingExecutor  # Bolt's listener executor
    inbox: Inbox | None = None  # the requests (None for a runtime that only posts)
    link: SlackLink | None = None  # whether Slack answers (None for a runtime that only posts)

    @property
    def ctx(self) -> PlayContext:
        return self.playbook.ctx

    @property
    def config(self) -> PlaybookConfig:
        return self.playbook.config

    def now(self) -> datetime:
        return self.ctx.clock.now()

    def ctx_in(self, channel: str) -> PlayContext:
        """The play context with approvers judged by Slack for a card in `channel`."""
        return replace(self.ctx, approvers=SlackApprovers(self.client, self.channels, channel))

    def wait_idle(self, timeout: float) -> bool:
        """True once no listener and no background work is left (listeners hand work on)."""
        return self.listeners.wait_idle(timeout) and self.work.wait_idle(timeout) \
            and self.listeners.wait_idle(timeout)

    def close(self) -> None:
        if self.link is not None:
            self.link.close()
        if self.inbox is not None:
            self.inbox.close()
        self.listeners.shutdown(wait=True)
        self.work.close()


def build_runtime(playbook: Playbook, client: WebClient, workers: int,
                  listeners: CountingExecutor, inbox: Inbox | None = None,
                  link: SlackLink | None = None) -> SlackRuntime:
    store = SlackMemory(playbook.ctx.uow)
    try:
        store.prune(playbook.ctx.clock.now() - DELIVERY_MEMORY)
    except StorageError as exc:  # the database away at start-up: prune at the next start
        logging.getLogger("playbook.slack").warning("not pruned Slack's old deliveries: %s",
                                                    exc)
    poster = Poster(client)
    return SlackRuntime(playbook=playbook, client=client, store=store, poster=poster,
                        channels=ChannelDirectory(client),
                        cards=ApprovalCards(playbook.ctx, store, poster),
                        work=BackgroundWork(workers, inbox), listeners=listeners,
                        inbox=inbox, link=link)
