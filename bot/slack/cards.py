"""Approval cards: posted once per request, then re-rendered in place from the stored request.

Where each card lives (channel, ts) is kept in the Slack store, so any replica can update it.
Refreshes of one card are serialised (striped locks), and each re-reads the request inside
the lock, so two racing clicks can never leave the older state on screen.
"""

from __future__ import annotations

import threading
import zlib
from typing import Any

from bot.slack.blocks.approval import CardView, approval_card
from bot.slack.memory import SlackMemory
from bot.slack.posting import Poster
from core import queries
from core.diff import diff_versions
from core.engine import PlayContext
from core.plays import canary_watch

KIND = "approval"
STRIPES = 64


class ApprovalCards:
    def __init__(self, ctx: PlayContext, store: SlackMemory, poster: Poster) -> None:
        self._ctx = ctx
        self._store = store
        self._poster = poster
        self._locks = [threading.Lock() for _ in range(STRIPES)]

    def view(self, request_id: str) -> CardView:
        found = queries.approval_view(self._ctx, request_id)
        request, candidate, production = found.request, found.candidate, found.production
        policy = self._ctx.config.model(request.model)
        changed = tuple(diff_versions(production, candidate)["changed_components"]) \
            if production else ()
        return CardView(request=request, candidate=candidate, production=production,
                        metric=policy.metric, higher_is_better=policy.higher_is_better,
                        changed=changed, now=self._ctx.clock.now(),
                        canary=self._canary(request.model, request.version_id),
                        rolled_back=found.rolled_back)

    def _canary(self, model: str, version_id: str) -> dict[str, Any] | None:
        """The comparison of the model's latest canary, running or ended, if the candidate is it."""
        seen = canary_watch.evidence_for(self._ctx, model, version_id)
        return seen.comparison.to_json() if seen and seen.comparison else None

    def post(self, request_id: str, channel: str, *, done: str | None = None) -> str:
        """Post the card; answers the channel id it landed in."""
        where, ts = self._poster.post(channel, approval_card(self.view(request_id)), done=done)
        self._store.remember(KIND, request_id, where, ts, self._ctx.clock.now())
        return where

    def where(self, request_id: str) -> tuple[str, str] | None:
        return self._store.message(KIND, request_id)

    def refresh(self, request_id: str) -> None:
        """Show the request as stored now; a request without a card is left alone."""
        with self._locks[zlib.crc32(request_id.encode()) % STRIPES]:
            found = self.where(request_id)
            if found is not None:
                self._poster.update(found[0], found[1], approval_card(self.view(request_id)))
