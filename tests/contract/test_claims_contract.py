"""The JobClaims port's promises, held by the fake and by SQL on SQLite and PostgreSQL: of
several replicas exactly one runs each scheduled slot; a claim left unfinished is taken over
after the timeout; core.scheduled.Once gives up after MAX_ATTEMPTS failed runs.
(Racing replicas on a real database: tests/integration/test_storage_claims.py.)"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone

import pytest
from testkit.claims import Claims

from core.ports import UnitOfWork
from core.scheduled import MAX_ATTEMPTS, JobClaim, slot

Claim = JobClaim
AT = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)  # the scheduled time
NOW = datetime(2026, 3, 2, 9, 0, 1, 250000, tzinfo=UTC)  # when the replicas claim it
TIMEOUT = timedelta(minutes=10)
JOB = "digest:#ml"
CET = timezone(timedelta(hours=1))


@pytest.fixture
def claims(uow: Callable[[], UnitOfWork]) -> Claims:
    return Claims(uow)


def get(claims: Claims, job: str = JOB, at: datetime = AT) -> JobClaim:
    found = claims.get(job, at)
    assert found is not None
    return found


def test_the_first_claim_wins_and_the_second_is_refused(claims: Claims) -> None:
    assert claims.get(JOB, AT) is None

    assert claims.claim(JOB, AT, "a", NOW, TIMEOUT) is True
    first = get(claims)
    assert claims.claim(JOB, AT, "b", NOW + timedelta(seconds=1), TIMEOUT) is False
    assert claims.claim(JOB, AT, "a", NOW + timedelta(minutes=9), TIMEOUT) is False  # even a

    assert get(claims) == first == Claim(JOB, AT, "a", NOW, 1, None, None)
    assert first.scheduled_at.tzinfo == UTC and first.claimed_at.tzinfo == UTC
    # other jobs and other times are claims of their own
    assert claims.claim("gc", AT, "b", NOW, TIMEOUT) is True
    assert claims.claim(JOB, AT + timedelta(days=1), "b", NOW, TIMEOUT) is True
    assert get(claims) == first


def test_a_finished_claim_is_never_claimable_again(claims: Claims) -> None:
    claims.claim(JOB, AT, "a", NOW, TIMEOUT)
    done_at = NOW + timedelta(seconds=3)

    claims.finish(JOB, AT, "a", done_at, "posted 1 message")

    done = get(claims)
    assert done == Claim(JOB, AT, "a", NOW, 1, done_at, "posted 1 message")
    for later in (timedelta(seconds=5), TIMEOUT, TIMEOUT * 10, timedelta(days=30)):
        assert claims.claim(JOB, AT, "b", NOW + later, TIMEOUT) is False
    assert get(claims) == done
    assert claims.stale(NOW + timedelta(days=30), TIMEOUT) == []


def test_an_unfinished_claim_is_taken_over_only_after_the_timeout(
        claims: Claims) -> None:
    claims.claim(JOB, AT, "a", NOW, TIMEOUT)
    before = get(claims)

    assert claims.claim(JOB, AT, "b", NOW + TIMEOUT - timedelta(microseconds=1),
                        TIMEOUT) is False
    assert get(claims) == before

    later = NOW + TIMEOUT
    assert claims.claim(JOB, AT, "b", later, TIMEOUT) is True
    assert get(claims) == Claim(JOB, AT, "b", later, 2, None, None)
    # the new holder has a fresh timeout: nobody else takes it right away
    assert claims.claim(JOB, AT, "c", later + timedelta(minutes=1), TIMEOUT) is False
    # the replica that lost it cannot finish it any more
    claims.finish(JOB, AT, "a", later + timedelta(seconds=1), "late post")
    assert get(claims) == Claim(JOB, AT, "b", later, 2, None, None)
    claims.finish(JOB, AT, "b", later + timedelta(seconds=2), "posted")
    assert get(claims).done_at == later + timedelta(seconds=2)
    assert get(claims).outcome == "posted"


def test_a_failure_keeps_the_claim_open_and_gives_up_after_max_attempts(
        claims: Claims) -> None:
    assert MAX_ATTEMPTS == 3
    t = NOW
    claims.claim(JOB, AT, "r0", t, TIMEOUT)
    for attempt in range(1, MAX_ATTEMPTS):
        gave_up = claims.failed(JOB, AT, f"r{attempt - 1}", t + timedelta(seconds=1),
                                f"slack said no #{attempt}")
        assert gave_up is False
        open_claim = get(claims)
        assert (open_claim.attempts, open_claim.done_at, open_claim.outcome) == (
            attempt, None, f"attempt {attempt} failed: slack said no #{attempt}")
        assert claims.claim(JOB, AT, "someone", t + timedelta(minutes=1), TIMEOUT) is False
        assert [c.job for c in claims.stale(t + TIMEOUT, TIMEOUT)] == [JOB]
        t += TIMEOUT
        assert claims.claim(JOB, AT, f"r{attempt}", t, TIMEOUT) is True
        assert get(claims).attempts == attempt + 1

    last = t + timedelta(seconds=2)
    assert claims.failed(JOB, AT, f"r{MAX_ATTEMPTS - 1}", last, "still no") is True

    closed = get(claims)
    assert closed == Claim(JOB, AT, f"r{MAX_ATTEMPTS - 1}", t, MAX_ATTEMPTS, last,
                           f"gave up after {MAX_ATTEMPTS} attempts: still no")
    assert claims.claim(JOB, AT, "another", t + TIMEOUT * 5, TIMEOUT) is False
    assert claims.stale(t + TIMEOUT * 5, TIMEOUT) == []
    assert get(claims) == closed


def test_a_failure_reported_by_a_non_holder_changes_nothing(claims: Claims) -> None:
    claims.claim(JOB, AT, "a", NOW, TIMEOUT)
    before = get(claims)

    assert claims.failed(JOB, AT, "b", NOW, "not mine") is False
    assert claims.failed(JOB, AT + timedelta(hours=1), "a", NOW, "no such claim") is False

    assert get(claims) == before
    assert claims.get(JOB, AT + timedelta(hours=1)) is None


def test_stale_lists_only_unfinished_claims_older_than_the_timeout(
        claims: Claims) -> None:
    now = NOW + timedelta(hours=1)
    claims.claim("digest:#b", AT + timedelta(minutes=2), "r", now - TIMEOUT * 3, TIMEOUT)
    claims.claim("digest:#a", AT + timedelta(minutes=1), "r", now - TIMEOUT, TIMEOUT)
    claims.claim("gc", AT, "r", now - TIMEOUT * 2, TIMEOUT)
    claims.claim("fresh", AT, "r", now - TIMEOUT + timedelta(seconds=1), TIMEOUT)
    claims.claim("done", AT, "r", now - TIMEOUT * 5, TIMEOUT)
    claims.finish("done", AT, "r", now - TIMEOUT * 4, "ok")
    claims.claim("dead", AT, "r", now - TIMEOUT * 5, TIMEOUT)

    found = claims.stale(now, TIMEOUT)

    assert [(c.job, c.scheduled_at) for c in found] == [
        ("dead", AT), ("gc", AT), ("digest:#a", AT + timedelta(minutes=1)),
        ("digest:#b", AT + timedelta(minutes=2))]  # by scheduled time
    assert all(c.done_at is None for c in found)
    assert [c.job for c in claims.stale(now, TIMEOUT, limit=2)] == ["dead", "gc"]
    assert claims.stale(now - TIMEOUT * 10, TIMEOUT) == []
    # listing takes nothing over
    assert get(claims, "gc").claimed_by == "r" and get(claims, "gc").attempts == 1


def test_a_scheduled_time_in_another_zone_or_with_microseconds_is_the_same_slot(
        claims: Claims) -> None:
    berlin_nine = datetime(2026, 3, 2, 10, 0, 0, 987654, tzinfo=CET)  # 09:00 UTC, plus µs
    assert slot(berlin_nine) == AT and slot(AT) == AT

    assert claims.claim(JOB, berlin_nine, "a", NOW, TIMEOUT) is True
    assert claims.claim(JOB, AT, "b", NOW, TIMEOUT) is False
    assert claims.claim(JOB, AT + timedelta(microseconds=999999), "c", NOW, TIMEOUT) is False
    assert claims.claim(JOB, AT.astimezone(timezone(timedelta(hours=-5))), "d", NOW,
                        TIMEOUT) is False

    stored = get(claims, JOB, berlin_nine)
    assert stored == get(claims, JOB, AT)
    assert (stored.scheduled_at, stored.scheduled_at.tzinfo, stored.claimed_by) == (AT, UTC,
                                                                                    "a")
    claims.finish(JOB, AT.astimezone(CET), "a", NOW + timedelta(seconds=1), "posted")
    assert get(claims).done_at == NOW + timedelta(seconds=1)
    # a second later is another slot
    assert claims.claim(JOB, AT + timedelta(seconds=1), "b", NOW, TIMEOUT) is True


def test_claim_times_in_another_zone_compare_as_instants(claims: Claims) -> None:
    claims.claim(JOB, AT, "a", NOW.astimezone(CET), TIMEOUT)
    assert get(claims).claimed_at == NOW

    takeover = (NOW + TIMEOUT).astimezone(timezone(timedelta(hours=-5)))
    assert claims.claim(JOB, AT, "b", takeover - timedelta(seconds=1), TIMEOUT) is False
    assert claims.claim(JOB, AT, "b", takeover, TIMEOUT) is True
    assert get(claims).claimed_at == NOW + TIMEOUT


def test_last_done_is_the_latest_finished_slot_of_that_job(claims: Claims) -> None:
    assert claims.last_done(JOB) is None
    days = [AT + timedelta(days=d) for d in range(3)]
    for day in days:
        claims.claim(JOB, day, "r", day, TIMEOUT)
    claims.finish(JOB, days[0], "r", days[0] + timedelta(seconds=5), "day 0")
    claims.finish(JOB, days[1], "r", days[1] + timedelta(seconds=5), "day 1")
    claims.claim("gc", days[2] + timedelta(hours=1), "r", NOW, TIMEOUT)
    claims.finish("gc", days[2] + timedelta(hours=1), "r", NOW, "gc")

    last = claims.last_done(JOB)

    assert last is not None
    assert (last.scheduled_at, last.outcome, last.done_at) == (
        days[1], "day 1", days[1] + timedelta(seconds=5))  # day 2 is not done yet
    assert get(claims, JOB, days[2]).done_at is None
    gc = claims.last_done("gc")
    assert gc is not None and gc.outcome == "gc"
    assert claims.last_done("digest:#other") is None
