"""SLACK_COMMAND_PREFIX: which prefixes Slack takes, how a command is named with one, and that
the sandbox's own environment can clear one set in the shell."""

from __future__ import annotations

import pytest

from bot.settings import environment, load_settings
from bot.shared.slack_commands import COMMAND_LIMIT, COMMANDS, MAX_PREFIX, prefix_problem
from bot.slack import names


@pytest.mark.parametrize("prefix", ["", "pb-", "pb_", "ml2-", "a" * MAX_PREFIX])
def test_prefixes_slack_takes(prefix: str) -> None:
    assert prefix_problem(prefix) is None
    assert all(len(f"/{prefix}{c.name}") <= COMMAND_LIMIT for c in COMMANDS)


@pytest.mark.parametrize("prefix", ["PB-", "pb!", "-pb", "_pb", "/pb-", "pb -", "pé-",
                                    "a" * (MAX_PREFIX + 1)])
def test_prefixes_slack_refuses_say_what_is_allowed(prefix: str) -> None:
    problem = prefix_problem(prefix)
    assert problem is not None and f"at most {MAX_PREFIX} characters" in problem


def test_the_longest_prefix_makes_the_longest_command_exactly_slacks_limit() -> None:
    longest = max(len(c.name) for c in COMMANDS)
    assert 1 + MAX_PREFIX + longest == COMMAND_LIMIT == 32


def test_a_command_is_named_with_the_process_prefix() -> None:
    assert names.command("rollback") == "/rollback"
    names.use("pb-")  # tests/conftest.py puts the prefix back afterwards
    assert names.command("rollback") == "/pb-rollback" and names.prefix() == "pb-"
    with pytest.raises(ValueError, match="no slash command 'rolback'"):
        names.command("rolback")
    with pytest.raises(ValueError, match="SLACK_COMMAND_PREFIX='PB'"):
        names.use("PB")
    assert names.command("registry") == "/pb-registry"


def test_given_variables_say_everything_so_the_sandbox_can_clear_the_prefix(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SLACK_COMMAND_PREFIX", "pb-")
    assert load_settings().env.slack_command_prefix == "pb-"
    assert environment({}).slack_command_prefix == ""
    cleared = load_settings().with_env(SLACK_COMMAND_PREFIX="", SLACK_BOT_TOKEN="xoxb-1")
    assert cleared.env.slack_command_prefix == "" and cleared.env.slack_bot_token == "xoxb-1"
