"""What a sandbox workspace holds: people, channels, messages, files. Plain records, no rules."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

BOT_USER = "UBOT"
TEAM_ID = "T0SANDBOX"
TEAM_DOMAIN = "playbook-sandbox"


class SlackError(Exception):
    """A Web API refusal, with Slack's own error code (`channel_not_found`, ...)."""

    def __init__(self, error: str, detail: str = "") -> None:
        super().__init__(f"{error}: {detail}" if detail else error)
        self.error = error


@dataclass(frozen=True)
class User:
    id: str
    name: str
    role: str

    def to_json(self) -> dict[str, str]:
        return {"id": self.id, "name": self.name, "role": self.role}


@dataclass
class Channel:
    id: str
    name: str
    purpose: str
    members: list[str]  # people; the bot can post anywhere (chat:write.public)
    is_dm: bool = False  # a direct message between one person and the bot

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "name": self.name, "purpose": self.purpose,
                "members": list(self.members), "is_dm": self.is_dm}


@dataclass
class StoredFile:
    id: str
    name: str
    title: str
    content: bytes = b""

    @property
    def url(self) -> str:
        return f"/sandbox/slack/files/{self.id}"

    def to_json(self) -> dict[str, str]:
        return {"id": self.id, "name": self.name, "title": self.title, "url": self.url}


@dataclass
class Message:
    channel: str
    ts: str
    user: str
    text: str
    blocks: list[dict[str, Any]] | None = None
    thread_ts: str | None = None
    ephemeral_to: str | None = None  # set: only this user sees it
    edited: bool = False
    command: bool = False  # the acting user's own slash command line
    files: list[StoredFile] = field(default_factory=list)

    def visible_to(self, user: str) -> bool:
        return self.ephemeral_to is None or self.ephemeral_to == user

    def to_json(self, reply_count: int) -> dict[str, Any]:
        return {"channel": self.channel, "ts": self.ts, "thread_ts": self.thread_ts,
                "user": self.user, "text": self.text, "blocks": self.blocks,
                "ephemeral": self.ephemeral_to is not None, "edited": self.edited,
                "command": self.command, "files": [f.to_json() for f in self.files],
                "reply_count": reply_count}


@dataclass
class ResponseTarget:
    """Where a response_url leads: who asked, in which channel, about which message."""

    user: str
    channel: str | None
    original_ts: str | None  # the message whose button was clicked
    last_ts: str | None = None  # the last message posted through this response_url
