"""The API-access ports' promises (tokens, idempotency keys, /metrics figures), held by the
fakes and by SQL on SQLite and PostgreSQL alike."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest

from core.access import ApiToken
from core.errors import AlreadyExists, NotFound
from core.ports import UnitOfWork

T0 = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)
Factory = Callable[[], UnitOfWork]


def token(n: int, name: str = "ci", minutes: int = 0) -> ApiToken:
    return ApiToken(id=f"tok-{n}", name=name, scopes=("register",),
                    created_at=T0 + timedelta(minutes=minutes), created_by="admin")


def test_tokens_are_found_by_hash_listed_and_revoked(uow: Factory) -> None:
    with uow() as u:
        u.tokens.add(token(1, "ci"), "h1")
        u.tokens.add(token(2, "ci", minutes=1), "h2")
        u.tokens.add(token(3, "serving", minutes=2), "h3")
        u.commit()
    with uow() as u, pytest.raises(AlreadyExists):
        u.tokens.add(token(1, "again"), "h9")
    with uow() as u:
        assert u.tokens.by_hash("h2") == token(2, "ci", minutes=1)
        assert u.tokens.by_hash("nope") is None
        assert [t.id for t in u.tokens.list()] == ["tok-1", "tok-2", "tok-3"]
        assert [t.id for t in u.tokens.revoke("tok-1", T0)] == ["tok-1"]  # by id: that one
        assert sorted(t.id for t in u.tokens.revoke("ci", T0)) == ["tok-2"]  # by name: live
        u.commit()
    with uow() as u:
        assert [t.id for t in u.tokens.list()] == ["tok-3"]
        revoked = [t for t in u.tokens.list(include_revoked=True) if t.revoked_at]
        assert {t.id for t in revoked} == {"tok-1", "tok-2"}
        with pytest.raises(NotFound):
            u.tokens.revoke("ci", T0)


def test_an_idempotency_key_is_claimed_once_completed_taken_over_and_purged(
        uow: Factory) -> None:
    with uow() as u:
        assert u.idempotency.claim("tok-1", "k", "fp", T0) is None
        u.commit()
    with uow() as u:
        held = u.idempotency.claim("tok-1", "k", "other", T0 + timedelta(seconds=1))
        assert held is not None and (held.fingerprint, held.status) == ("fp", None)
        assert u.idempotency.claim("tok-2", "k", "fp", T0) is None  # per scope
        assert not u.idempotency.take_over("tok-1", "k", T0 + timedelta(hours=1), T0)
        assert u.idempotency.take_over("tok-1", "k", T0, T0 + timedelta(minutes=5))
        u.commit()
    with uow() as u:
        u.idempotency.complete("tok-1", "k", 200, '{"ok": true}')
        u.commit()
    with uow() as u:
        done = u.idempotency.claim("tok-1", "k", "fp", T0)
        assert done is not None and (done.status, done.body) == (200, '{"ok": true}')
        assert done.created_at == T0 + timedelta(minutes=5)
        assert not u.idempotency.take_over("tok-1", "k", done.created_at, T0)  # answered
        u.idempotency.release("tok-2", "k")
        assert u.idempotency.purge(T0 + timedelta(minutes=1)) == 0
        assert u.idempotency.purge(T0 + timedelta(hours=1)) == 1
        u.commit()
    with uow() as u:
        assert u.idempotency.claim("tok-1", "k", "fresh", T0) is None


def test_the_database_answers_the_ping_and_empty_figures(uow: Factory) -> None:
    with uow() as u:
        u.stats.ping()
        assert u.stats.tag_moves() == [] and u.stats.rollback_seconds() == {}


def test_a_keys_first_effect_is_kept_and_read_back(uow: Factory) -> None:
    with uow() as u:
        assert u.idempotency.claim("tok-1", "k", "fp", T0) is None
        assert u.idempotency.get("tok-1", "k") is not None
        assert u.idempotency.get("tok-1", "other") is None
        u.commit()
    with uow() as u:
        u.idempotency.mark_effect("tok-1", "k", "rollback moved chat production")
        u.idempotency.mark_effect("tok-1", "nobody", "nothing")  # no such key: no row made
        u.commit()
    with uow() as u:
        u.idempotency.mark_effect("tok-1", "k", "a later change")  # the first one stays
        u.commit()
    with uow() as u:
        u.idempotency.mark_effect("tok-1", "k", "rolled back")  # never committed
    with uow() as u:
        stored = u.idempotency.get("tok-1", "k")
        assert stored is not None and stored.effect == "rollback moved chat production"
        assert stored.status is None and stored.fingerprint == "fp"
        assert u.idempotency.get("tok-1", "nobody") is None
