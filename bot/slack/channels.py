"""Channels as playbook.toml names them: an id (C0123ABCD) or a name (#incidents).

A request is matched to a configured channel by id only: names change (a renamed channel keeps
its id), and a slash command from a private channel may arrive with `channel_name`
"privategroup". Names are resolved to ids through conversations.list (public channels, and the
private ones the bot is in), cached, and listed again on a miss, so a rename or a channel
created since is seen at the next request that needs it.
"""

from __future__ import annotations

import threading

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.shared.slack_ids import SLACK_CHANNEL, bare
from bot.slack.errors import SlackCallFailed, slack_error

PAGE = 200  # Slack's advice: at most 200 a page


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
            cached = self._ids.get(want.lower())
        found = cached or self._listed().get(want.lower())
        if found is None:
            raise SlackCallFailed(f"finding channel #{want}", "channel_not_found")
        return found

    def matches(self, ref: str, channel_id: str | None, channel_name: str | None = None) -> bool:
        """Whether the channel a request came from (its id) is the one playbook.toml names
        (`ref`), by id. The cache answers unless the request contradicts it: the cached
        channel now goes by another name (renamed away), or a channel with the wanted name,
        or a private one whose name Slack hides, has another id (re-created). Only then,
        or when the name is not cached yet, are the channels listed again; a request from
        any other channel costs no call."""
        want = bare(ref)
        if not channel_id:
            return False
        if SLACK_CHANNEL.match(want):
            return want == channel_id
        with self._lock:
            cached = self._ids.get(want.lower())
        said = (channel_name or "").lower()
        if cached == channel_id and said in ("", "privategroup", want.lower()):
            return True
        if cached is not None and cached != channel_id \
                and said not in ("privategroup", want.lower()):
            return False  # another channel: the cache is not contradicted
        found = self._listed().get(want.lower())
        if found is None:
            raise SlackCallFailed(f"finding channel #{want}", "channel_not_found")
        return found == channel_id

    def can_post(self, channel_id: str) -> bool:
        """Whether the bot may post in this conversation: a member, or a public channel
        (chat:write.public). A private channel or DM it is not in is invisible to it
        (conversations.info says channel_not_found); any other answer is taken as yes, so
        that a Slack hiccup never stops a play (the post itself then says what failed)."""
        try:
            info = self._client.conversations_info(channel=channel_id).get("channel") or {}
        except SlackApiError as exc:
            error = exc.response.get("error") if exc.response is not None else None
            return error != "channel_not_found"
        if info.get("is_im") or info.get("is_mpim"):
            return bool(info.get("is_member", True))
        return bool(info.get("is_member")) or not info.get("is_private", False)

    def _listed(self) -> dict[str, str]:
        """Every channel the bot can see, by name, listed now (and cached)."""
        names: dict[str, str] = {}
        cursor = None
        try:
            while True:
                page = self._client.conversations_list(
                    types="public_channel,private_channel", exclude_archived=True, limit=PAGE,
                    cursor=cursor)
                for c in page.get("channels") or []:
                    names[str(c["name"]).lower()] = str(c["id"])
                cursor = (page.get("response_metadata") or {}).get("next_cursor")
                if not cursor:
                    break
        except SlackApiError as exc:
            raise slack_error("listing the channels the bot can see", exc) from exc
        with self._lock:
            self._ids = names
        return names
