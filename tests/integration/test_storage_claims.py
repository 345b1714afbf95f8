"""Job claims racing on SQLite and PostgreSQL: of several replicas claiming one slot at the
same moment, exactly one wins, new or taken over. (The rest of the JobClaims port's promises:
tests/contract/test_claims_contract.py.)"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import Engine
from testkit.claims import Claims

from core.scheduled import JobClaim as Claim
from storage.database import migrate
from storage.uow import uow_factory

AT = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)  # the scheduled time
NOW = datetime(2026, 3, 2, 9, 0, 1, 250000, tzinfo=UTC)  # when the replicas claim it
TIMEOUT = timedelta(minutes=10)
JOB = "digest:#ml"
CET = timezone(timedelta(hours=1))
RACERS = 8


@pytest.fixture
def claims(engine: Engine) -> Claims:
    migrate(engine)
    return Claims(uow_factory(engine))


def get(claims: Claims, job: str = JOB, at: datetime = AT) -> Claim:
    found = claims.get(job, at)
    assert found is not None
    return found


def race(attempt: Callable[[str], bool]) -> dict[str, bool]:
    """RACERS threads call attempt(owner) at the same moment; each owner's answer."""
    barrier = threading.Barrier(RACERS)
    results: dict[str, bool] = {}
    errors: list[BaseException] = []

    def run(owner: str) -> None:
        try:
            barrier.wait(timeout=30)
            results[owner] = attempt(owner)
        except BaseException as exc:  # reported below, in the test's thread
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(f"replica-{i}",)) for i in range(RACERS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not any(t.is_alive() for t in threads), "a racer hung"
    assert errors == []
    return results


def test_racers_for_a_new_claim_one_wins(claims: Claims) -> None:
    results = race(lambda owner: claims.claim(JOB, AT, owner, NOW, TIMEOUT))

    winners = [o for o, won in results.items() if won]
    assert len(results) == RACERS and len(winners) == 1
    assert get(claims) == Claim(JOB, AT, winners[0], NOW, 1, None, None)


def test_racers_taking_over_one_stale_claim_one_wins(claims: Claims) -> None:
    claims.claim(JOB, AT, "dead-replica", NOW, TIMEOUT)
    later = NOW + TIMEOUT + timedelta(seconds=30)

    results = race(lambda owner: claims.claim(JOB, AT, owner, later, TIMEOUT))

    winners = [o for o, won in results.items() if won]
    assert len(results) == RACERS and len(winners) == 1
    assert get(claims) == Claim(JOB, AT, winners[0], later, 2, None, None)
    assert claims.stale(later, TIMEOUT) == []
