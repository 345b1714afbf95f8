"""The Slack app's store on SQLite and PostgreSQL: deliveries claimed once, messages found."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine

from storage.database import migrate
from storage.repositories.slack import slack_store

T0 = datetime(2026, 1, 5, 12, 0, tzinfo=UTC)


def test_claims_are_first_come_and_messages_are_remembered(engine: Engine) -> None:
    migrate(engine)
    store = slack_store(engine)
    assert store.claim("command:t1", "command", T0) is True
    assert store.claim("command:t1", "command", T0) is False  # a retry
    assert store.claim("event:E1", "event", T0 + timedelta(days=2)) is True
    assert store.prune(T0 + timedelta(days=1)) == 1
    assert store.claim("command:t1", "command", T0) is True  # forgotten after the window

    assert store.message("approval", "apr-1") is None
    store.remember("approval", "apr-1", "C1", "1.000001", T0)
    store.remember("approval", "apr-1", "C1", "1.000002", T0)  # re-posted: the latest wins
    store.remember("incident", "apr-1", "C2", "2.000001", T0)
    assert store.message("approval", "apr-1") == ("C1", "1.000002")
    assert store.message("incident", "apr-1") == ("C2", "2.000001")
