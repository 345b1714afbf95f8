"""Every slash command's text, however odd, gets a clean answer: the parsed command or an
InvalidInput naming the problem; never another exception (which would reach the user as
"unexpected error"). Fixed seed, bounded examples: the same cases on every run."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from bot.slack import parse
from core.errors import PlaybookError

NOW = datetime(2026, 1, 5, 12, 0, tzinfo=UTC)
WORDS = ["chat", "to", "because", "since", "limit", "tag", "from", "prompt", "override",
         "versions", "history", "diff", "show", "gc", "digest", "help", "dry-run", "ago",
         "chat@1a2b3c4d", '"', "“", "&amp;", "<@U1|ana>", "999999999d", "0001-01-01T00:00Z",
         "9999-12-31T23:59:59-01:00", "²", "٣", "1e309", "nan", "-1", "0", "\x00"]
TEXT = st.one_of(st.text(max_size=200),
                 st.lists(st.sampled_from(WORDS), max_size=12).map(" ".join))
PARSERS: dict[str, Callable[[str], Any]] = {
    "rollback": lambda t: parse.rollback(t, "U1"),
    "rehearse": lambda t: parse.rehearse(t, "U1"),
    "promote": lambda t: parse.promote(t, "U1"),
    "audit": lambda t: parse.audit(t, "U1"),
    "investigate": lambda t: parse.investigate(t, "U1", NOW),
    "experiment": parse.experiment,
    "registry": parse.registry,
}


@pytest.mark.parametrize("name", sorted(PARSERS))
@settings(derandomize=True, max_examples=400, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=TEXT)
@example(text="chat since 999999999d ago")
@example(text="chat since 0001-01-01T00:00Z")
@example(text="versions chat limit ²")
@example(text="history chat limit ٣")
def test_any_text_parses_or_is_refused_cleanly(name: str, text: str) -> None:
    try:
        PARSERS[name](text)
    except PlaybookError as exc:  # a refusal the user can act on: one line that says why
        assert exc.message.strip() and "Traceback" not in exc.message
