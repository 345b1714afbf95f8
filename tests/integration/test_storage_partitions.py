"""Attributions over time (storage/partitions.py): on PostgreSQL, weekly partitions made ahead,
the table from before the upgrade kept as the first one, a lookup by request id that stops at
the newest partition holding it, and retention by dropping whole weeks; on SQLite, retention
by deleting rows."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from itertools import pairwise
from typing import Any

import pytest
from alembic import command
from sqlalchemy import Engine, event, text

from core.domain import Attribution
from core.errors import InvalidInput
from storage import partitions
from storage.database import alembic_config, make_engine, migrate
from storage.partitions import WEEK, Partition, week_start
from storage.uow import uow_factory

from .builders import version

MONDAY = datetime(2027, 3, 1, tzinfo=UTC)  # a Monday, far from the wall clock on purpose


def record(rid: str, at: datetime, version: str = "v" * 64, model: str = "chat") -> Attribution:
    return Attribution(request_id=rid, model=model, version_id=version, served_at=at,
                       latency_ms=1.0, error=False, feedback=None)


def store(engine: Engine, *records: Attribution) -> list[str]:
    with uow_factory(engine)() as u:
        added = u.attributions.add_new(records)
        u.commit()
    return added


def found(engine: Engine, rid: str) -> Attribution | None:
    with uow_factory(engine)(read_only=True) as u:
        return u.attributions.get(rid)


def layout(engine: Engine) -> list[Partition]:
    with engine.begin() as conn:
        return partitions.partitions(conn)


def contiguous(parts: list[Partition]) -> bool:
    return all(a.end == b.start for a, b in pairwise(parts))


@pytest.fixture
def pg(postgres_url: str) -> Iterator[Engine]:
    engine = make_engine(postgres_url)
    migrate(engine)
    yield engine
    engine.dispose()


@pytest.mark.postgres
def test_the_upgrade_keeps_the_stored_attributions_as_the_first_partition(
        postgres_url: str) -> None:
    engine = make_engine(postgres_url)
    try:
        cfg = alembic_config()
        with engine.begin() as conn:
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, "0011_read_paths")
        old = [record(f"old-{i}", MONDAY + timedelta(days=i * 3)) for i in range(5)]
        with engine.begin() as conn:  # as an older Playbook stored them: one plain table
            for a in old:
                conn.execute(text(
                    "INSERT INTO attributions VALUES (:request_id, :model, :version_id, "
                    ":served_at, :latency_ms, :error, :feedback)"), vars(a))
        migrate(engine)

        parts = layout(engine)
        first = parts[0]
        assert first.start is None and first.name.startswith("attributions_before_")
        newest = max(a.served_at for a in old)
        assert first.end > newest and first.end == week_start(first.end)  # a Monday
        assert contiguous(parts) and len(parts) == 5  # and four weeks ahead
        for a in old:
            assert found(engine, a.request_id) == a
        with engine.connect() as conn:
            assert conn.execute(text(f'SELECT count(*) FROM "{first.name}"')).scalar() == 5
        # A retry of a stored record is still a retry after the upgrade.
        assert store(engine, old[0], record("new", newest)) == ["new"]
    finally:
        engine.dispose()


@pytest.mark.postgres
def test_partitions_are_made_ahead_contiguously_and_only_once(pg: Engine) -> None:
    last = layout(pg)[-1]
    until = last.end + 2 * WEEK + timedelta(hours=5)
    made = partitions.ensure(pg, until)
    assert made == [partitions.partition_name(last.end + n * WEEK) for n in range(3)]
    assert partitions.ensure(pg, until) == []
    parts = layout(pg)
    assert contiguous(parts) and parts[-1].end > until


@pytest.mark.postgres
def test_a_record_served_past_the_last_partition_makes_its_own(pg: Engine) -> None:
    """The scheduler was down for weeks: ingest makes the partitions and stores the batch."""
    far = layout(pg)[-1].end + 3 * WEEK + timedelta(days=2)
    assert store(pg, record("early", far - 5 * WEEK), record("far", far)) == ["early", "far"]
    assert found(pg, "far") == record("far", far)
    parts = layout(pg)
    assert contiguous(parts) and parts[-1].start == week_start(far)


def test_a_retry_is_stored_once(engine_url: str) -> None:
    """The same record again, or with the time the server gave it on arrival (a record sent
    without served_at), minutes later: one row, on both databases."""
    engine = make_engine(engine_url)
    try:
        migrate(engine)
        at = MONDAY + timedelta(days=2)
        assert store(engine, record("r1", at)) == ["r1"]
        assert store(engine, record("r1", at), record("r2", at)) == ["r2"]
        assert store(engine, record("r1", at + timedelta(minutes=3))) == []
        assert store(engine, record("r1", at - timedelta(hours=23))) == []
        assert found(engine, "r1") == record("r1", at)
    finally:
        engine.dispose()


@pytest.mark.postgres
def test_a_lookup_by_request_id_stops_at_the_newest_partition_holding_it(pg: Engine) -> None:
    parts = layout(pg)
    weeks = [p.start for p in parts[1:]]
    assert len(weeks) >= 4
    for n, start in enumerate(weeks):
        assert start is not None
        store(pg, *(record(f"w{n}-{i}", start + timedelta(hours=i)) for i in range(50)))

    def probed(rid: str) -> tuple[int, int]:
        sent: list[tuple[str, Any]] = []

        def capture(_c: Any, _cur: Any, statement: str, params: Any, _ctx: Any,
                    _many: bool) -> None:
            if statement.lstrip().upper().startswith("SELECT"):
                sent.append((statement, params))

        event.listen(pg, "before_cursor_execute", capture)
        try:
            assert found(pg, rid) is not None
        finally:
            event.remove(pg, "before_cursor_execute", capture)
        (statement, params), = [s for s in sent if "attributions" in s[0]]
        with pg.connect() as conn:
            plan = [line for (line,) in conn.exec_driver_sql(
                "EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF) " + statement, params)]
        scans = [line for line in plan if "Index Scan" in line or "Seq Scan" in line]
        assert not [line for line in scans if "Seq Scan" in line], plan
        return sum("never executed" not in line for line in scans), len(scans)

    newest = len(weeks) - 1
    executed, listed = probed(f"w{newest}-7")
    assert (executed, listed) == (1, len(parts))  # one probe; the others never ran
    executed, _ = probed("w0-7")
    assert executed == len(parts) - 1  # newest first, down to the one holding it


@pytest.mark.postgres
def test_retention_drops_whole_weeks_and_keeps_the_week_that_straddles_it(pg: Engine) -> None:
    parts = layout(pg)
    second, third = parts[1], parts[2]
    assert second.start is not None and third.start is not None
    store(pg, record("before", second.start - timedelta(hours=1)),
          record("second", second.start + timedelta(days=1)),
          record("third", third.start + timedelta(days=1)))
    cutoff = third.start + timedelta(days=2)  # past "third", within its week

    retired = partitions.retire(pg, cutoff)

    assert retired.partitions == (parts[0].name, second.name)
    assert [p.name for p in layout(pg)] == [p.name for p in parts[2:]]
    assert found(pg, "before") is None and found(pg, "second") is None
    assert found(pg, "third") is not None  # its week is not all past retention yet
    assert partitions.retire(pg, cutoff) == partitions.Retired()


def test_sqlite_retention_deletes_the_rows_served_before_it(
        tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(partitions, "DELETE_BATCH", 3)  # several batches per model
    engine = make_engine(f"sqlite:///{tmp_path / 'p.db'}")
    try:
        migrate(engine)
        with uow_factory(engine)() as u:
            for model in ("chat", "vision"):
                u.versions.add(version(1, model=model))
            u.commit()
        cutoff = MONDAY + timedelta(days=10)
        for model in ("chat", "vision"):
            store(engine, *(record(f"{model}-{d}", MONDAY + timedelta(days=d), model=model)
                            for d in range(20)))
        assert partitions.retire(engine, cutoff) == partitions.Retired(rows=20)
        for model in ("chat", "vision"):
            assert found(engine, f"{model}-9") is None
            assert found(engine, f"{model}-10") is not None
        assert partitions.ensure(engine, cutoff) == []  # no partitions on SQLite
    finally:
        engine.dispose()


@pytest.mark.postgres
def test_a_drop_that_would_wait_for_ingest_gives_up_and_the_next_run_does_it(
        pg: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(partitions, "LOCK_TIMEOUT", "100ms")
    parts = layout(pg)
    assert parts[1].start is not None
    cutoff = parts[2].end
    with pg.connect() as busy:  # a batch being stored, its transaction still open
        busy.execute(text("INSERT INTO attributions VALUES ('busy', 'chat', 'v', :at, "
                          "NULL, NULL, NULL)"), {"at": parts[-1].end - timedelta(hours=1)})
        assert partitions.retire(pg, cutoff) == partitions.Retired()
        busy.commit()
    assert partitions.retire(pg, cutoff).partitions == tuple(p.name for p in parts[:3])
    assert found(pg, "busy") is not None


@pytest.mark.postgres
def test_a_record_before_the_oldest_week_gets_one_and_a_clock_years_off_is_refused(
        pg: Engine) -> None:
    parts = layout(pg)
    partitions.retire(pg, parts[2].end)  # the first three go; retention then lengthened
    oldest = layout(pg)[0].start
    assert oldest is not None
    early = oldest - 2 * WEEK + timedelta(days=1)
    assert store(pg, record("early", early)) == ["early"]
    assert found(pg, "early") == record("early", early)
    assert contiguous(layout(pg)) and layout(pg)[0].start == week_start(early)

    before = layout(pg)
    with pytest.raises(InvalidInput, match="new weekly attribution partitions") as err:
        store(pg, record("ok", early), record("2099", datetime(2099, 1, 1, tzinfo=UTC)))
    assert "host's clock is far off" in (err.value.hint or "")
    assert layout(pg) == before and found(pg, "ok") is None


def test_served_by_around_a_span_finds_the_records_served_in_it(engine_url: str) -> None:
    """What the conflict check asks after a batch held retries: on PostgreSQL only the weeks
    around the batch are searched; SQLite and the fakes may search everything."""
    engine = make_engine(engine_url)
    try:
        migrate(engine)
        at = MONDAY + timedelta(days=3)
        store(engine, record("r1", at, version="a" * 64))
        with uow_factory(engine)(read_only=True) as u:
            near = u.attributions.served_by(["r1", "r2"], around=(at - timedelta(days=1),
                                                                  at + timedelta(days=1)))
            everywhere = u.attributions.served_by(["r1"])
        assert near == everywhere == {"r1": ("chat", "a" * 64)}
        if engine.dialect.name == "postgresql":
            with uow_factory(engine)(read_only=True) as u:
                assert u.attributions.served_by(["r1"], around=(at + 2 * WEEK,
                                                                at + 3 * WEEK)) == {}
    finally:
        engine.dispose()
