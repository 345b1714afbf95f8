"""The manifest in the repo declares what the app answers and the scopes its calls need, and
is what `playbook slack manifest` prints; with a command prefix the printed one declares the
prefixed commands the app then answers."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from slack_harness import Harness, run

import bot.slack
from bot.shared.slack_commands import COMMANDS, EXAMPLE_URL
from bot.slack.listeners import modules, slash_commands

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


def test_every_listener_is_a_command_of_the_manifest_table() -> None:
    assert sorted(str(m.COMMAND) for m in modules("commands")) == sorted(c.name
                                                                         for c in COMMANDS)


@pytest.mark.parametrize("command_prefix", ["", "pb-"])
def test_every_declared_command_is_answered(slack: Harness) -> None:
    for command in slash_commands():
        reply = slack.reply(slack.command(command, "", channel="CGEN",
                                          channel_name="general"))
        assert reply["response_type"] == "ephemeral", (command, reply)
        assert command in json.dumps(reply), (command, reply)
    called = {c.method for c in slack.fake.calls} - {"auth.test", "response"}
    assert called <= set(SCOPES), called


@pytest.fixture
def shell(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A directory with no playbook.toml and no database, and no prefix in the environment."""
    monkeypatch.chdir(tmp_path)
    for name in ("SLACK_COMMAND_PREFIX", "PLAYBOOK_CONFIG", "DATABASE_URL", "PLAYBOOK_SERVER"):
        monkeypatch.delenv(name, raising=False)
    return tmp_path


def _commands(printed: str) -> list[str]:
    return [c["command"] for c in json.loads(printed)["features"]["slash_commands"]]


def _urls(printed: str) -> set[str | None]:
    m = json.loads(printed)
    return {c.get("url") for c in m["features"]["slash_commands"]} | {
        m["settings"]["interactivity"].get("request_url"),
        m["settings"]["event_subscriptions"].get("request_url")}


def test_the_manifest_file_is_what_playbook_slack_manifest_prints(
        shell: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "slack", "manifest")
    assert (code, err) == (0, "")
    assert out == MANIFEST.read_text(encoding="utf-8"), \
        "regenerate it: playbook slack manifest > bot/slack/manifest.json"
    assert _urls(out) == {EXAMPLE_URL}
    assert not (shell / ".playbook").exists()  # no database was made for it


def test_the_manifest_with_a_prefix_declares_exactly_the_prefixed_commands(
        shell: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    unprefixed = slash_commands()
    code, out, _ = run(capsys, "slack", "manifest", "--prefix", "pb-", "--url",
                       "https://bot.example.org")
    assert code == 0
    assert sorted(_commands(out)) == sorted(f"/pb-{c[1:]}" for c in unprefixed)
    assert _urls(out) == {"https://bot.example.org/slack/events"}

    monkeypatch.setenv("SLACK_COMMAND_PREFIX", "ops_")  # the server's setting is the default
    code, out, _ = run(capsys, "--server", "https://elsewhere", "slack", "manifest",
                       "--socket-mode")
    assert code == 0
    assert sorted(_commands(out)) == sorted(f"/ops_{c[1:]}" for c in unprefixed)
    assert _urls(out) == {None} and json.loads(out)["settings"]["socket_mode_enabled"]
    code, out, _ = run(capsys, "slack", "manifest", "--prefix", "")
    assert _commands(out) == _commands(MANIFEST.read_text(encoding="utf-8"))


@pytest.mark.parametrize("bad", ["PB-", "pb!", "-pb", "/pb-", "p b", "a" * 21])
def test_a_bad_prefix_is_refused_in_one_line_naming_it(
        shell: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
        bad: str) -> None:
    code, out, err = run(capsys, "slack", "manifest", f"--prefix={bad}")
    assert (code, out) == (1, "") and len(err.strip().splitlines()) == 1
    assert err.startswith(f"playbook: --prefix: {bad!r}: ")
    assert "lowercase letters, digits" in err or "at most 20 characters" in err

    monkeypatch.setenv("SLACK_COMMAND_PREFIX", bad)
    for argv in (["slack", "manifest"], ["serve", "--http-only"]):  # refused at start
        code, out, err = run(capsys, *argv)
        assert (code, out) == (1, "") and len(err.strip().splitlines()) == 1, err
        assert f"SLACK_COMMAND_PREFIX={bad!r}" in err, err


def test_a_request_url_slack_would_not_call_is_refused(
        shell: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "slack", "manifest", "--url", "http://bot.example.org")
    assert (code, out) == (1, "") and err.startswith("playbook: --url: ") and "https://" in err
