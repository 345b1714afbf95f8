"""The manifest in the repo declares what the app answers and the scopes its calls need."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from slack_harness import Harness

import bot.slack
from bot.slack.listeners import slash_commands

MANIFEST = Path(bot.slack.__file__).with_name("manifest.json")
SCOPES = {  # Web API methods the app calls -> the bot scope each needs
    "chat.postMessage": "chat:write", "chat.update": "chat:write",
    "conversations.members": "channels:read", "conversations.list": "channels:read",
    "usergroups.users.list": "usergroups:read", "usergroups.list": "usergroups:read",
    "files.getUploadURLExternal": "files:write",
    "files.completeUploadExternal": "files:write",
}


def _manifest() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(MANIFEST.read_text(encoding="utf-8"))
    return data


def test_manifest_declares_every_command_interactivity_home_and_scopes() -> None:
    m = _manifest()
    declared = [c["command"] for c in m["features"]["slash_commands"]]
    assert sorted(declared) == sorted(slash_commands())
    settings = m["settings"]
    urls = {c["url"] for c in m["features"]["slash_commands"]} | {
        settings["interactivity"]["request_url"], settings["event_subscriptions"]["request_url"]}
    assert len(urls) == 1 and urls.pop().endswith("/slack/events")
    assert settings["interactivity"]["is_enabled"] is True
    assert m["features"]["app_home"]["home_tab_enabled"] is True
    assert settings["event_subscriptions"]["bot_events"] == ["app_home_opened"]
    scopes = set(m["oauth_config"]["scopes"]["bot"])
    assert {"commands", "groups:read", *SCOPES.values()} <= scopes


def test_every_declared_command_is_answered(slack: Harness) -> None:
    for command in slash_commands():
        reply = slack.reply(slack.command(command, "", channel="CGEN",
                                          channel_name="general"))
        assert reply["response_type"] == "ephemeral", (command, reply)
        assert command in json.dumps(reply), (command, reply)
    called = {c.method for c in slack.fake.calls} - {"auth.test", "response"}
    assert called <= set(SCOPES), called
