"""Posting to Slack, with its failures turned into one error type that says what happened.

The WebClient already waits and retries when Slack answers 429 with Retry-After (and on
connection errors); whatever still fails arrives here as a SlackApiError and leaves as
SlackCallFailed, carrying what was already done so the report never hides a tag move.
"""

from __future__ import annotations

from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.shared.slack_ids import SLACK_USER
from bot.slack.blocks.common import Message
from bot.slack.blocks.common import channel as channel_text
from bot.slack.errors import slack_error


class Poster:
    def __init__(self, client: WebClient) -> None:
        self._client = client

    def post(self, channel: str, msg: Message, *, thread_ts: str | None = None,
             done: str | None = None) -> tuple[str, str]:
        """Post a message; answers (channel id, ts) for threading and updating it later."""
        try:
            answer = self._client.chat_postMessage(channel=channel, text=msg["text"],
                                                   blocks=msg["blocks"], thread_ts=thread_ts,
                                                   unfurl_links=False)
        except SlackApiError as exc:
            failed = slack_error(f"posting to {channel_text(channel)}", exc,
                                 to_a_person=bool(SLACK_USER.match(channel))
                                 or channel.startswith("D"))
            failed.done = done
            raise failed from exc
        return str(answer["channel"]), str(answer["ts"])

    def update(self, channel: str, ts: str, msg: Message, *, done: str | None = None) -> None:
        try:
            self._client.chat_update(channel=channel, ts=ts, text=msg["text"],
                                     blocks=msg["blocks"])
        except SlackApiError as exc:
            failed = slack_error(f"updating the message in {channel_text(channel)}", exc)
            failed.done = done
            raise failed from exc

    def upload(self, channel: str, *, filename: str, content: str, title: str,
               thread_ts: str | None = None, comment: str | None = None) -> None:
        try:
            self._client.files_upload_v2(channel=channel, thread_ts=thread_ts,
                                         filename=filename, content=content, title=title,
                                         initial_comment=comment)
        except SlackApiError as exc:
            raise slack_error(f"uploading {filename} to {channel_text(channel)}", exc) from exc

    def publish_home(self, user_id: str, view: dict[str, object]) -> None:
        try:
            self._client.views_publish(user_id=user_id, view=view)
        except SlackApiError as exc:
            raise slack_error("publishing the App Home", exc) from exc


class DirectMessage:
    """A reply where Slack gave no response_url (an App Home click): a direct message."""

    def __init__(self, client: WebClient, user: str) -> None:
        self._client = client
        self._user = user

    def __call__(self, text: str = "", blocks: list[dict[str, Any]] | None = None,
                 **_: Any) -> None:
        self._client.chat_postMessage(channel=self._user, text=text, blocks=blocks)
