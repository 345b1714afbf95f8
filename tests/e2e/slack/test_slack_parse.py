"""The command grammar: pure functions, no Slack and no database."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.shared.slack_ids import bare
from bot.slack import parse
from core.errors import InvalidInput

NOW = datetime(2026, 1, 5, 12, 0, tzinfo=UTC)


def test_rollback_grammar() -> None:
    order = parse.rollback("chat to chat@1a2b3c4d because it's “broken” since 9:00", "U1")
    assert (order.model, order.to, order.actor) == ("chat", "chat@1a2b3c4d", "U1")
    assert order.symptom == "it's \"broken\" since 9:00" and order.tag == "production"
    assert parse.rollback("chat", "U1").to is None


def test_because_inside_quotes_is_part_of_the_value() -> None:
    order = parse.experiment('chat t from chat@1a2b3c4d prompt "Say why, because it helps" '
                             "because clarity")
    assert order.prompt == "Say why, because it helps" and order.reason == "clarity"


@pytest.mark.parametrize(("fn", "text", "message"), [
    (parse.rollback, "", "missing <model>"),
    (parse.rollback, "chat to", "`to` needs a value"),
    (parse.rollback, "chat to a to b", "`to` is given twice"),
    (parse.rollback, "chat sideways", "unexpected `sideways`"),
    (parse.promote, "chat", "missing <version>"),
    (parse.promote, "chat a b", "unexpected `b`"),
    (parse.audit, "", "missing <request-id>"),
    (parse.rehearse, "a b", "unexpected `b`"),
])
def test_malformed_text_names_the_problem_and_shows_usage(fn: object, text: str,
                                                          message: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        fn(text, "U1")  # type: ignore[operator]
    assert message in str(caught.value)
    assert caught.value.hint is not None and caught.value.hint.startswith("usage: `/")
    assert "e.g." in caught.value.hint


def test_unbalanced_quotes_are_a_usage_error() -> None:
    with pytest.raises(InvalidInput, match="cannot read the text"):
        parse.experiment('chat t from chat@1a2b3c4d prompt "never closed')


def test_investigate_times() -> None:
    assert parse.investigate("chat", "U1", NOW).onset is None
    assert parse.investigate("chat since 2h ago", "U1", NOW).onset == NOW - timedelta(hours=2)
    at = parse.investigate("chat since 2026-01-04T08:00:00Z", "U1", NOW).onset
    assert at == datetime(2026, 1, 4, 8, tzinfo=UTC)
    with pytest.raises(InvalidInput, match="is not a time"):
        parse.investigate("chat since someday", "U1", NOW)
    with pytest.raises(InvalidInput, match="unexpected `until now`"):
        parse.investigate("chat until now", "U1", NOW)


def test_experiment_changes_are_read_as_keys_to_set() -> None:
    """Merging them over the parent is play 4's rule in core (tests/unit/test_experiment.py)."""
    order = parse.experiment("chat terse from chat@1a2b3c4d config temperature=0.2 "
                             "tools.search=true style=plain weights ft-42")
    assert order.config == {"temperature": 0.2, "tools.search": True, "style": "plain"}
    assert order.weights == "ft-42" and order.prompt is None
    with pytest.raises(InvalidInput, match="change at least one"):
        parse.experiment("chat terse from chat@1a2b3c4d")


def test_registry_grammar() -> None:
    assert parse.registry("").action == "help"
    q = parse.registry("versions chat limit 5")
    assert (q.action, q.model, q.limit) == ("versions", "chat", 5)
    assert parse.registry("history chat tag production").tag == "production"
    assert parse.registry("diff chat@1a2b3c4d chat@5e6f7a8b").versions == (
        "chat@1a2b3c4d", "chat@5e6f7a8b")
    gc = parse.registry("gc chat dry-run")
    assert (gc.model, gc.dry_run) == ("chat", True)
    assert parse.registry("gc").model is None
    for bad, why in [("versions", "missing <model>"), ("versions chat limit 0", "limit"),
                     ("diff a", "missing <version>"), ("gc a b", "unexpected `b`"),
                     ("purge", "unknown action")]:
        with pytest.raises(InvalidInput, match=why):
            parse.registry(bad)


def test_channel_refs_are_bared_of_slack_markup() -> None:
    assert bare("<#C0123|incidents>") == "C0123" and bare("#incidents") == "incidents"


def test_promote_override_comes_before_because_and_the_word_in_a_reason_is_a_word() -> None:
    order = parse.promote("chat chat@1a2b3c4d override upstream blip because retire v1", "U1")
    assert (order.override_reason, order.reason) == ("upstream blip", "retire v1")
    plain = parse.promote("chat chat@1a2b3c4d because fixes the override bug", "U1")
    assert plain.override_reason is None and plain.reason == "fixes the override bug"
    with pytest.raises(InvalidInput, match="needs a reason"):
        parse.promote("chat chat@1a2b3c4d override", "U1")
