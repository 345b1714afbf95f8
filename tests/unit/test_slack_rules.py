"""What Slack refuses in a message or a view (bot.shared.slack_rules), which both stand-ins
apply: each rule with the error code Slack answers."""

from __future__ import annotations

from bot.shared.slack_rules import message_problem, view_problem


def section(text: str) -> dict[str, object]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}


def code(problem: tuple[str, str] | None) -> str | None:
    return problem[0] if problem else None


def test_a_valid_message_passes() -> None:
    assert message_problem("hi", [section("hello")]) is None
    assert message_problem("hi", None) is None
    assert message_problem("", [section("x" * 2900)] * 4) is None  # 11,600: within 12,000


def test_what_slack_refuses_in_a_message() -> None:
    assert code(message_problem("", None)) == "no_text"
    assert code(message_problem("t", [section("x" * 3001)])) == "invalid_blocks"
    assert code(message_problem("t", [{"type": "divider"}] * 51)) == "invalid_blocks"
    assert code(message_problem("t", [{"type": "sparkles"}])) == "invalid_blocks"
    assert code(message_problem("t", "not a list")) == "invalid_blocks_format"
    assert code(message_problem("t", [section("x" * 2900)] * 5)) == "msg_blocks_too_long"
    assert code(message_problem("x" * 40_001, None)) == "msg_too_long"
    button = {"type": "actions", "elements": [{"type": "button", "action_id": "a",
                                               "text": {"type": "plain_text", "text": "b"},
                                               "value": "v" * 2001}]}
    assert code(message_problem("t", [button])) == "invalid_blocks"


def test_what_slack_refuses_in_an_app_home_view() -> None:
    assert view_problem({"type": "home", "blocks": [section("x")]}) is None
    assert code(view_problem({"type": "home", "blocks": [{"type": "divider"}] * 101})) \
        == "invalid_blocks"
    assert code(view_problem({"type": "modal", "blocks": []})) == "invalid_arguments"
    assert code(view_problem("nope")) == "invalid_arguments"
