"""Channels as playbook.toml names them: an id (C0123ABCD) or a name (#incidents).

Slash commands carry both the channel's id and its name, so the incident-channel rule holds
whichever form the config uses. APIs that need an id (conversations.members) get one through
conversations.list, cached, since channel ids never change.
"""

from __future__ import annotations

import threading

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.shared.slack_ids import SLACK_CHANNEL, bare
from bot.slack.errors import SlackCallFailed, slack_error


def is_channel(ref: str, channel_id: str | None, channel_name: str | None) -> bool:
    want = bare(ref)
    if SLACK_CHANNEL.match(want):
        return want == channel_id
    return bool(channel_name) and want.lower() == (channel_name or "").lower()


class ChannelDirectory:
    def __init__(self, client: WebClient) -> None:
        self._client = client
        self._ids: dict[str, str] = {}
        self._lock = threading.Lock()

    def resolve(self, ref: str) -> str:
        """The id of a channel given by id or name; unknown names are a clear error."""
        want = bare(ref)
        if SLACK_CHANNEL.match(want):
            return want
        with self._lock:
            if want.lower() in self._ids:
                return self._ids[want.lower()]
        cursor = None
        try:
            while True:
                page = self._client.conversations_list(
                    types="public_channel,private_channel", exclude_archived=True, limit=1000,
                    cursor=cursor)
                for c in page.get("channels") or []:
                    with self._lock:
                        self._ids[str(c["name"]).lower()] = str(c["id"])
                cursor = (page.get("response_metadata") or {}).get("next_cursor")
                if not cursor:
                    break
        except SlackApiError as exc:
            raise slack_error(f"finding channel #{want}", exc) from exc
        with self._lock:
            found = self._ids.get(want.lower())
        if found is None:
            raise SlackCallFailed(f"finding channel #{want}", "channel_not_found")
        return found
