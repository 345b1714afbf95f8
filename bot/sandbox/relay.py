"""What Slack sends the app, built for the page's clicks: signed requests to /slack/events.

Slash commands are form-encoded, button clicks a `payload=` of block_actions, opening the Home
tab an `event_callback`; each carries X-Slack-Signature and X-Slack-Request-Timestamp made
with the secret the sandbox gave the app at start, so the Bolt app verifies them exactly as it
verifies Slack's. A command or click gets a response_url that leads back to the workspace.
"""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import httpx
from slack_sdk.signature import SignatureVerifier

from bot.sandbox.records import (
    BOT_USER,
    TEAM_DOMAIN,
    TEAM_ID,
    Message,
    ResponseTarget,
    SlackError,
)
from bot.sandbox.slack_api import PREFIX
from bot.sandbox.workspace import Workspace
from bot.shared.slack_ids import as_slack_sends

APP_ID = "A0SANDBOX"
TIMEOUT_S = 10.0  # Slack waits 3 s for an ack; the sandbox is more patient on a slow machine


class BadRequest(Exception):
    """The page asked for something Slack could not have sent; the message says what."""


@dataclass(frozen=True)
class Delivered:
    status: int
    ack: dict[str, Any] | None  # the immediate ack body, when it said something


def elements(blocks: list[dict[str, Any]] | None) -> Iterator[tuple[str, dict[str, Any]]]:
    """Every interactive element in some blocks, with its block_id."""
    for block in blocks or []:
        found = block.get("elements") if block.get("type") == "actions" else \
            [block["accessory"]] if isinstance(block.get("accessory"), dict) else []
        for element in found or []:
            if isinstance(element, dict) and element.get("action_id"):
                yield str(block.get("block_id", "")), element


class Relay:
    def __init__(self, ws: Workspace, *, secret: str, base_url: str, slack_url: str,
                 commands: list[str]) -> None:
        self.ws = ws
        self.base_url = base_url.rstrip("/")  # where /slack/events is
        self.slack_url = slack_url.rstrip("/")  # where response_url posts go
        self.commands = commands
        self._verifier = SignatureVerifier(secret)
        self._client: httpx.AsyncClient | None = None

    async def close(self) -> None:
        if self._client is not None:
            await self._client.aclose()

    async def _send(self, body: str, content_type: str) -> httpx.Response:
        ts = str(int(time.time()))
        signature = self._verifier.generate_signature(timestamp=ts, body=body) or ""
        headers = {"Content-Type": content_type, "X-Slack-Request-Timestamp": ts,
                   "X-Slack-Signature": signature}
        if self._client is None:
            self._client = httpx.AsyncClient(base_url=self.base_url, timeout=TIMEOUT_S)
        return await self._client.post("/slack/events", content=body.encode(),
                                       headers=headers)

    def _respond_to(self, target: ResponseTarget) -> tuple[str, str]:
        """A fresh trigger_id and the response_url that leads back here."""
        key = secrets.token_urlsafe(12)
        self.ws.expect_response(key, target)
        return key, f"{self.slack_url}{PREFIX}/response/{key}"

    def _who(self, user: str) -> dict[str, str]:
        try:
            person = self.ws.user(user)
        except SlackError as exc:
            raise BadRequest(f"no user {user!r} in the sandbox (users: "
                             f"{', '.join(self.ws.users)})") from exc
        return {"id": person.id, "username": person.name.lower(), "name": person.name.lower(),
                "team_id": TEAM_ID}

    def _channel(self, ref: str) -> tuple[str, str]:
        try:
            channel = self.ws.channel(ref)
        except SlackError as exc:
            raise BadRequest(f"no channel {ref!r} in the sandbox") from exc
        return channel.id, channel.name

    async def command(self, user: str, channel: str, line: str) -> Delivered:
        who = self._who(user)
        channel_id, channel_name = self._channel(channel)
        found = self.ws.channel(channel_id)
        if user not in found.members:  # Slack offers no composer before you join
            where = "that direct message" if found.is_dm else f"#{channel_name}"
            raise BadRequest(f"{who['name']} is not in {where}; in Slack you would join it "
                             "first (switch to a member to type here)")
        command, _, text = line.strip().partition(" ")
        if command not in self.commands:
            raise BadRequest(f"{command or 'an empty line'} is not a command of this app; "
                             f"type one of {', '.join(self.commands)}")
        self.ws.post(channel_id, user=user, text=line.strip(), ephemeral_to=user,
                     command=True)
        trigger, url = self._respond_to(ResponseTarget(user, channel_id, None))
        body = urlencode({
            "token": "sandbox", "team_id": TEAM_ID, "team_domain": TEAM_DOMAIN,
            "channel_id": channel_id,
            # as Slack names them: a DM "directmessage" (a private channel "privategroup")
            "channel_name": "directmessage" if found.is_dm else channel_name, "user_id": user,
            "user_name": who["name"], "command": command,
            "text": as_slack_sends(text.strip()),
            "api_app_id": APP_ID, "is_enterprise_install": "false", "response_url": url,
            "trigger_id": trigger})
        answer = await self._send(body, "application/x-www-form-urlencoded")
        return self._acked(answer, trigger, command)

    def _acked(self, answer: httpx.Response, trigger: str, command: str) -> Delivered:
        """Show the ack to the user, as Slack does (or Slack's own failure note)."""
        if answer.status_code != 200:
            self.ws.respond(trigger, {"text": f"{command} failed with the error "
                                              f"\"http_{answer.status_code}\""})
            return Delivered(answer.status_code, None)
        if not answer.content.strip():
            return Delivered(200, None)
        try:
            ack = answer.json()
        except ValueError:
            ack = {"text": answer.text}
        if not isinstance(ack, dict):
            ack = {"text": str(ack)}
        if ack.get("text") or ack.get("blocks"):
            self.ws.respond(trigger, ack)
        return Delivered(200, ack)

    async def action(self, user: str, channel: str | None, message_ts: str | None,
                     action_id: str, block_id: str, value: str) -> Delivered:
        who = self._who(user)
        payload: dict[str, Any] = {
            "type": "block_actions", "api_app_id": APP_ID, "token": "sandbox",
            "team": {"id": TEAM_ID, "domain": TEAM_DOMAIN}, "user": who,
            "is_enterprise_install": False, "enterprise": None}
        if channel is None:  # a button in the App Home view
            view = self.ws.homes.get(user)
            if view is None:
                raise BadRequest(f"{user} has no App Home view yet; open the Home tab first")
            blocks = view.get("blocks")
            payload.update(container={"type": "view", "view_id": view.get("id")}, view=view,
                           trigger_id=secrets.token_urlsafe(12))
        else:
            channel_id, channel_name = self._channel(channel)
            msg = self._clicked(channel_id, message_ts, user)
            blocks = msg.blocks
            trigger, url = self._respond_to(ResponseTarget(user, channel_id, msg.ts))
            payload.update(
                container={"type": "message", "message_ts": msg.ts, "channel_id": channel_id,
                           "is_ephemeral": msg.ephemeral_to is not None},
                channel={"id": channel_id, "name": channel_name}, trigger_id=trigger,
                message={"type": "message", "ts": msg.ts, "user": msg.user,
                         "bot_id": "B0BOT" if msg.user == BOT_USER else None,
                         "text": msg.text, "blocks": msg.blocks, "thread_ts": msg.thread_ts},
                response_url=url)
        block_id, element = self._element(blocks, action_id, block_id)
        payload["actions"] = [{  # Slack sends what the button carries, whatever was asked
            "type": element.get("type", "button"), "action_id": action_id,
            "block_id": block_id, "value": element.get("value", value),
            "text": element.get("text"),
            "style": element.get("style"), "action_ts": f"{time.time():.6f}"}]
        answer = await self._send(urlencode({"payload": json.dumps(payload)}),
                                  "application/x-www-form-urlencoded")
        return Delivered(answer.status_code, None)

    def _clicked(self, channel_id: str, message_ts: str | None, user: str) -> Message:
        if not message_ts:
            raise BadRequest("message_ts is required for a button in a channel")
        try:
            msg = self.ws.message(channel_id, message_ts)
        except SlackError as exc:
            raise BadRequest(f"no message {message_ts} in that channel") from exc
        if not msg.visible_to(user):
            raise BadRequest(f"message {message_ts} is ephemeral and not {user}'s to click")
        return msg

    @staticmethod
    def _element(blocks: list[dict[str, Any]] | None, action_id: str,
                 block_id: str) -> tuple[str, dict[str, Any]]:
        """The clicked element and its block; an empty block_id takes the first match."""
        for found_block, element in elements(blocks):
            if element["action_id"] == action_id and (not block_id or found_block == block_id):
                return found_block, element
        raise BadRequest(f"no button {action_id!r} (block {block_id!r}) there to click")

    async def home(self, user: str) -> Delivered:
        self._who(user)
        dm = self.ws.channel(user)
        event: dict[str, Any] = {"type": "app_home_opened", "user": user, "channel": dm.id,
                                 "tab": "home", "event_ts": f"{time.time():.6f}"}
        if user in self.ws.homes:
            event["view"] = self.ws.homes[user]
        body = json.dumps({
            "token": "sandbox", "team_id": TEAM_ID, "api_app_id": APP_ID, "event": event,
            "type": "event_callback", "event_id": f"Ev{secrets.token_hex(8).upper()}",
            "event_time": int(time.time()),
            "authorizations": [{"team_id": TEAM_ID, "user_id": BOT_USER, "is_bot": True}]})
        answer = await self._send(body, "application/json")
        return Delivered(answer.status_code, None)
