"""The sandbox's pretend Slack workspace: thread-safe state and Slack's rules about it.

The Web API stand-in (bot threads) and the page's routes (the event loop) both read and change
it; one lock guards everything, and every change bumps `version`, which the page follows over
server-sent events. The rules kept here are Slack's: who sees an ephemeral message, what a
response_url post does, which channel refs resolve, what a thread's reply count is.
"""

from __future__ import annotations

import logging
import secrets
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any

from bot.sandbox.records import (
    BOT_USER,
    Channel,
    Message,
    ResponseTarget,
    SlackError,
    StoredFile,
    User,
)

log = logging.getLogger(__name__)
DM_NAME = "playbook"
MAX_RESPONSE_URLS = 10_000


class Workspace:
    def __init__(self, name: str, users: Iterable[User], channels: Iterable[Channel],
                 groups: dict[str, list[str]] | None = None,
                 handles: dict[str, str] | None = None,
                 clock: Callable[[], float] = time.time) -> None:
        self.name = name
        self.users = {u.id: u for u in users}
        self.channels = {c.id: c for c in channels}
        self.groups = dict(groups or {})  # user group id -> user ids
        self.handles = dict(handles or {})  # user group handle -> id
        self.messages: list[Message] = []
        self.homes: dict[str, dict[str, Any]] = {}
        # channel ref -> command lines worth trying there now (bot.sandbox.tips)
        self.tips_source: Callable[[], dict[str, list[str]]] | None = None
        self.files: dict[str, StoredFile] = {}
        self.responses: dict[str, ResponseTarget] = {}
        self.version = 1
        self._lock = threading.RLock()
        self.changed = threading.Condition(self._lock)
        self._clock = clock
        self._last_us = 0

    # -- changes ----------------------------------------------------------------------------

    def _bump(self) -> None:
        self.version += 1
        self.changed.notify_all()

    def _ts(self) -> str:
        """As Slack's: the posting time to the microsecond, unique and increasing (a message
        kept from an earlier run, or two in the same microsecond, push it on by one)."""
        now_us = int(self._clock() * 1_000_000)
        if self.messages:
            sec, _, usec = self.messages[-1].ts.partition(".")
            self._last_us = max(self._last_us, int(sec) * 1_000_000 + int(usec or 0))
        self._last_us = max(now_us, self._last_us + 1)
        return f"{self._last_us // 1_000_000}.{self._last_us % 1_000_000:06d}"

    def wait_for_change(self, seen: int, timeout: float) -> int:
        """Block until `version` differs from `seen` (or the timeout); answers the version."""
        with self.changed:
            self.changed.wait_for(lambda: self.version != seen, timeout)
            return self.version

    # -- lookups ----------------------------------------------------------------------------

    def user(self, user_id: str) -> User:
        found = self.users.get(user_id)
        if found is None:
            raise SlackError("user_not_found", f"no user {user_id} in this workspace")
        return found

    def channel(self, ref: str) -> Channel:
        """An id, `#name`, `name`, a DM id or a user id (the DM with that user)."""
        with self._lock:
            want = ref.strip().lstrip("#")
            if want in self.channels:
                return self.channels[want]
            for c in self.channels.values():
                if not c.is_dm and c.name == want.lower():
                    return c
            if want in self.users:
                return self._dm(want)
            raise SlackError("channel_not_found", f"no channel {ref!r}")

    def _dm(self, user_id: str) -> Channel:
        dm = self.channels.get("D" + user_id)
        if dm is None:
            dm = Channel(id="D" + user_id, name=DM_NAME, purpose="Direct messages with Playbook",
                         members=[user_id, BOT_USER], is_dm=True)
            self.channels[dm.id] = dm
        return dm

    def public_channels(self) -> list[Channel]:
        with self._lock:
            return [c for c in self.channels.values() if not c.is_dm]

    def message(self, channel: str, ts: str) -> Message:
        with self._lock:
            for m in self.messages:
                if m.ts == ts and m.channel == channel:
                    return m
        raise SlackError("message_not_found", f"no message {ts} in {channel}")

    # -- what the Web API does --------------------------------------------------------------

    def post(self, channel_ref: str, *, user: str, text: str,
             blocks: list[dict[str, Any]] | None = None, thread_ts: str | None = None,
             ephemeral_to: str | None = None, command: bool = False,
             files: list[StoredFile] | None = None) -> Message:
        with self._lock:
            channel = self.channel(channel_ref)
            if thread_ts is not None:
                self.message(channel.id, thread_ts)  # replies need their parent
            msg = Message(channel=channel.id, ts=self._ts(), user=user, text=text,
                          blocks=blocks, thread_ts=thread_ts, ephemeral_to=ephemeral_to,
                          command=command, files=list(files or []))
            self.messages.append(msg)
            self._bump()
            return msg

    def post_ephemeral(self, channel_ref: str, *, to: str, text: str,
                       blocks: list[dict[str, Any]] | None = None,
                       thread_ts: str | None = None) -> Message:
        """chat.postEphemeral: Slack refuses it for someone who is not in the channel."""
        with self._lock:
            channel = self.channel(channel_ref)
            self.user(to)
            if not channel.is_dm and to not in channel.members:
                raise SlackError("user_not_in_channel", f"{to} is not in #{channel.name}")
            return self.post(channel.id, user=BOT_USER, text=text, blocks=blocks,
                             thread_ts=thread_ts, ephemeral_to=to)

    def update(self, channel_ref: str, ts: str, *, text: str,
               blocks: list[dict[str, Any]] | None) -> Message:
        """chat.update: the bot edits one of its own channel messages."""
        with self._lock:
            msg = self.message(self.channel(channel_ref).id, ts)
            if msg.ephemeral_to is not None:
                raise SlackError("message_not_found", "ephemeral messages cannot be updated")
            if msg.user != BOT_USER:
                raise SlackError("cant_update_message", "the bot can only edit its own")
            self._edit(msg, text, blocks)
            return msg

    def _edit(self, msg: Message, text: str, blocks: list[dict[str, Any]] | None) -> None:
        """An update that shows nothing new (a card re-sent as it was after a refused
        click, block ids aside) leaves the message as it is: no "(edited)"."""
        if (msg.text, _shown(msg.blocks)) == (text, _shown(blocks)):
            return
        msg.text, msg.blocks, msg.edited = text, blocks, True
        self._bump()

    def members(self, channel_id: str) -> list[str]:
        """conversations.members takes an id only, like Slack."""
        with self._lock:
            channel = self.channels.get(channel_id)
            if channel is None:
                raise SlackError("channel_not_found", f"no channel with id {channel_id!r}")
            return list(channel.members)

    def group_users(self, group_id: str) -> list[str]:
        with self._lock:
            if group_id not in self.groups:
                raise SlackError("no_such_subteam", f"no user group {group_id!r}")
            return list(self.groups[group_id])

    def publish_home(self, user_id: str, view: dict[str, Any]) -> dict[str, Any]:
        with self._lock:
            self.user(user_id)
            self.homes[user_id] = {**view, "id": f"V{user_id}"}
            self._bump()
            return self.homes[user_id]

    def new_file(self, filename: str) -> StoredFile:
        with self._lock:
            # Unguessable: the upload route takes no token, as Slack's upload URLs take none.
            stored = StoredFile(id=f"F{secrets.token_hex(10).upper()}", name=filename,
                                title=filename)
            self.files[stored.id] = stored
            return stored

    def upload(self, file_id: str, content: bytes) -> None:
        with self._lock:
            if file_id not in self.files:
                raise SlackError("file_not_found", f"no pending upload {file_id}")
            if self.files[file_id].content:
                raise SlackError("file_already_uploaded", f"{file_id} was uploaded already")
            self.files[file_id].content = content

    def share_files(self, shares: list[tuple[str, str | None]], *, channel: str | None,
                    comment: str | None, thread_ts: str | None) -> list[StoredFile]:
        """files.completeUploadExternal: the files, titled, posted as one bot message."""
        with self._lock:
            done = []
            for file_id, title in shares:
                if file_id not in self.files:
                    raise SlackError("file_not_found", f"no uploaded file {file_id}")
                stored = self.files[file_id]
                stored.title = title or stored.title
                done.append(stored)
            if channel:
                self.post(channel, user=BOT_USER, text=comment or "", thread_ts=thread_ts,
                          files=done)
            return done

    # -- response_url -----------------------------------------------------------------------

    def expect_response(self, key: str, target: ResponseTarget) -> None:
        with self._lock:
            self.responses[key] = target
            if len(self.responses) > MAX_RESPONSE_URLS:  # the oldest expire, as Slack's do
                del self.responses[next(iter(self.responses))]

    def respond(self, key: str, body: dict[str, Any]) -> None:
        """A response_url post, as Slack treats it: replace, delete, in_channel or ephemeral."""
        with self._lock:
            target = self.responses.get(key)
            if target is None:
                raise SlackError("expired_url", f"no response_url {key!r}")
            text, blocks = str(body.get("text") or ""), body.get("blocks")
            original = target.original_ts or target.last_ts
            if (body.get("replace_original") or body.get("delete_original")) \
                    and original and target.channel:
                msg = self.message(target.channel, original)
                if body.get("delete_original"):
                    self.messages.remove(msg)
                    self._bump()
                else:
                    self._edit(msg, text, blocks)
                return
            where = target.channel or target.user  # no channel: a Home click, answered in DM
            public = body.get("response_type") == "in_channel" and target.channel is not None
            posted = self.post(where, user=BOT_USER, text=text, blocks=blocks,
                               thread_ts=body.get("thread_ts"),
                               ephemeral_to=None if public else target.user, command=False)
            target.last_ts = posted.ts

    # -- what the page sees -----------------------------------------------------------------

    def _tips(self) -> dict[str, list[str]]:
        """Channel id -> lines to try, asked of the registry now (outside the lock)."""
        if self.tips_source is None:
            return {}
        try:
            found = self.tips_source()
        except Exception:  # a hint is not worth failing the page for
            log.exception("working out the page's tips failed")
            return {}
        tips: dict[str, list[str]] = {}
        for ref, lines in found.items():
            try:
                tips.setdefault(self.channel(ref).id, []).extend(lines)
            except SlackError:
                continue  # a channel this workspace does not have
        return tips

    def snapshot(self, user_id: str) -> dict[str, Any]:
        tips = self._tips()
        with self._lock:
            self.user(user_id)
            channels = [c for c in self.channels.values()
                        if not c.is_dm or user_id in c.members]
            ids = {c.id for c in channels}
            seen = [m for m in self.messages if m.channel in ids and m.visible_to(user_id)]
            replies: dict[tuple[str, str], int] = {}
            for m in self.messages:
                if m.thread_ts and m.ephemeral_to is None:
                    replies[(m.channel, m.thread_ts)] = replies.get((m.channel, m.thread_ts),
                                                                    0) + 1
            return {
                "version": self.version, "workspace": self.name, "me": user_id,
                "users": [u.to_json() for u in self.users.values()],
                "channels": [c.to_json() for c in channels],
                "messages": [m.to_json(replies.get((m.channel, m.ts), 0)) for m in seen],
                "home": self.homes.get(user_id),
                "tips": {c: lines for c, lines in tips.items() if c in ids}}


def _shown(blocks: list[dict[str, Any]] | None) -> list[dict[str, Any]]:
    """What a reader sees of blocks: everything but their ids."""
    return [{k: v for k, v in b.items() if k != "block_id"} for b in blocks or []]
