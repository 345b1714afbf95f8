"""Every read the audit, play 3, investigate, the digest and /metrics make of the history
finds its rows through an index: a test that fails when one would read a history table
from end to end. The statements are the ones the repositories really send (captured as they
run), explained by the database itself: SQLite with and without planner statistics (a fresh
file has none; the server gathers them at start and hourly), PostgreSQL with sequential
scans priced out, so a plan still scanning a table has no index to use."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, event, insert, text

from core.domain import PRODUCTION, Attribution
from core.handlers import NOTIFY
from core.ports import UnitOfWork
from storage.database import make_engine, migrate, refresh_statistics
from storage.orm import ApprovalRequestRow, AttributionRow, IncidentRow, TagEventRow, VersionRow
from storage.orm_outbox import OutboxDeliveryRow, OutboxEventRow
from storage.uow import uow_factory

from .builders import T0, approval_request, incident, moved, version

HISTORY = {"tag_events", "versions", "incidents", "approval_requests", "attributions",
           "outbox_deliveries"}
# An index searched on these alone still reads a model's (or a tag's) whole history.
WHOLE = {"model", "tag"}
# PostgreSQL weighs an index against the table's size: below a few thousand rows reading a
# model's every event can rightly cost less than probing an index 40 times.
VERSIONS = {"sqlite": 2000, "postgresql": 5000}


def seed(engine: Engine) -> list[str]:
    """A production history of VERSIONS promotions in one lineage, a rollback every tenth
    with its incident, an approval per version, attributions, and outbox deliveries (most
    done, some pending or dead): bulk-inserted as storage's own rows, big enough that a
    planner prefers an index where one fits (PostgreSQL weighs that by the table's size)."""
    count = VERSIONS[engine.dialect.name]
    made = [version(0)]
    for n in range(1, count):
        made.append(version(n, parent_id=made[-1].id, created_at=T0 + timedelta(minutes=n)))
    events, incidents = [], []
    revision = 0
    for n, v in enumerate(made):
        revision += 1
        events.append(moved(made[n - 1] if n else None, v, revision,
                            at=T0 + timedelta(minutes=2 * revision)))
        if n and n % 10 == 0:
            revision += 1
            events.append(moved(v, made[n - 1], revision, play="rollback",
                                at=T0 + timedelta(minutes=2 * revision)))
            incidents.append(replace(incident(v, made[n - 1], f"inc-{n}"), rehearsal=False))
    with engine.begin() as conn:
        conn.execute(insert(VersionRow), [VersionRow.values(v, depth=n, root_id=made[0].id)
                                          for n, v in enumerate(made)])
        conn.execute(insert(TagEventRow), [TagEventRow.values(e) for e in events])
        conn.execute(insert(IncidentRow), [IncidentRow.values(i) for i in incidents])
        conn.execute(insert(ApprovalRequestRow), [
            {**ApprovalRequestRow.values(approval_request(v, f"apr-{n}")), "revision": 1}
            for n, v in enumerate(made)])
        conn.execute(insert(AttributionRow), [AttributionRow.values(
            Attribution(f"req-{n}", "chat", v.id, T0)) for n, v in enumerate(made)])
        conn.execute(insert(OutboxEventRow), [
            {"seq": n + 1, "name": "PromotionRequested", "model": "chat", "payload": {},
             "created_at": T0, "request_id": None} for n in range(count)])
        conn.execute(insert(OutboxDeliveryRow), [
            {"event_seq": n + 1, "handler": NOTIFY, "model": "chat", "subject": f"s{n}",
             "state": "pending" if n % 100 == 0 else "dead" if n % 100 == 1 else "done",
             "attempts": 1, "next_attempt_at": T0, "lease_owner": None, "lease_until": None,
             "last_error": None, "done_at": T0} for n in range(count)])
    return [v.id for v in made]


def reads(ids: list[str]) -> dict[str, Callable[[UnitOfWork], object]]:
    middle, newest = ids[len(ids) // 2], ids[-1]
    at = T0 + timedelta(minutes=2 * len(ids))
    return {
        "lineage": lambda u: u.versions.ancestry("chat", newest, 20),
        "whole lineage": lambda u: u.versions.ancestry("chat", newest),
        "events touching a version": lambda u: u.events.touching("chat", middle),
        "rolled back from": lambda u: u.events.rolled_back_from("chat", PRODUCTION,
                                                                ids[-40:]),
        "ever pointed": lambda u: u.events.ever_pointed("chat", PRODUCTION, middle),
        "production at a time": lambda u: u.events.history("chat", PRODUCTION, until=at,
                                                           limit=1, newest_first=True),
        "history since": lambda u: u.events.history("chat", PRODUCTION, since=at),
        "history since, every tag": lambda u: u.events.history("chat", since=at),
        "history before a seq": lambda u: u.events.history("chat", PRODUCTION, before_seq=100,
                                                            limit=50, newest_first=True),
        "incidents of a version": lambda u: u.incidents.for_version("chat", middle),
        "approvals of a version": lambda u: u.approvals.for_version("chat", middle),
        "attribution": lambda u: u.attributions.get("req-7"),
        "tag moves": lambda u: u.stats.tag_moves(),
        "times to rollback": lambda u: u.stats.rollback_seconds(),
        "deliveries": lambda u: u.outbox.counts(),
    }


def statements(engine: Engine, read: Callable[[UnitOfWork], object]) -> list[tuple[str, Any]]:
    sent: list[tuple[str, Any]] = []

    def capture(_conn: Any, _cursor: Any, statement: str, parameters: Any, _context: Any,
                _many: bool) -> None:
        if statement.lstrip().upper().startswith(("SELECT", "WITH")):
            sent.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", capture)
    try:
        with uow_factory(engine)(read_only=True) as u:
            read(u)
    finally:
        event.remove(engine, "before_cursor_execute", capture)
    return sent


def sqlite_scans(engine: Engine, statement: str, parameters: Any) -> list[str]:
    with engine.connect() as conn:
        plan = [row[-1] for row in conn.exec_driver_sql(
            "EXPLAIN QUERY PLAN " + statement, parameters)]
    # "SCAN t" reads the table end to end, "SCAN t USING ... INDEX" the whole index, and
    # "SEARCH t USING INDEX i (model=? AND tag=?)" every event of a tag; a read of a big
    # history must search on something narrower.
    found = []
    for step in plan:
        words = step.split()
        if len(words) < 2 or words[1] not in HISTORY:
            continue
        searched = set(re.findall(r"(\w+)[=<>]", step.partition("(")[2]))
        if words[0] == "SCAN" or (words[0] == "SEARCH" and searched <= WHOLE):
            found.append(step)
    return found


def postgres_scans(engine: Engine, statement: str, parameters: Any) -> list[str]:
    with engine.begin() as conn:
        conn.execute(text("SET LOCAL enable_seqscan = off"))
        (plan,) = conn.exec_driver_sql("EXPLAIN (FORMAT JSON) " + statement,
                                       parameters).one()
    found: list[str] = []

    def walk(node: dict[str, Any]) -> None:
        kind = node["Node Type"]
        # Index scans name their table; a bitmap index scan only its index (its parent,
        # the bitmap heap scan, names the table).
        table = node.get("Relation Name") or next(
            (t for t in HISTORY if t in node.get("Index Name", "")), None)
        if table in HISTORY and kind == "Seq Scan":
            found.append(f"{kind} on {table}")
        if table in HISTORY and kind in ("Index Scan", "Index Only Scan", "Bitmap Index Scan"):
            searched = set(re.findall(r"\(+(\w+)\)?(?:::\w+)?\s*(?:=|<>|<=|>=|<|>)",
                                      node.get("Index Cond", "")))
            if searched <= WHOLE:
                found.append(f"{kind} of {node.get('Index Name')} on {table}: "
                              f"{node.get('Index Cond', 'all of it')}")
        for child in node.get("Plans", []):
            walk(child)

    walk((plan if isinstance(plan, list) else json.loads(plan))[0]["Plan"])
    return found


Seeded = tuple[Engine, list[str], Callable[[Engine, str, Any], list[str]]]


@pytest.fixture(scope="module",
                params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def seeded(request: pytest.FixtureRequest,
           tmp_path_factory: pytest.TempPathFactory) -> Iterator[Seeded]:
    """One history per backend for the module; SQLite's starts without statistics."""
    postgres = request.param == "postgres"
    engine = make_engine(request.getfixturevalue("module_postgres_url") if postgres else
                         f"sqlite:///{tmp_path_factory.mktemp('plans') / 'playbook.db'}")
    migrate(engine)
    ids = seed(engine)
    if postgres:
        refresh_statistics(engine, tables=sorted(HISTORY))  # as autovacuum would, after a load
    yield engine, ids, postgres_scans if postgres else sqlite_scans
    engine.dispose()


def scanning_reads(engine: Engine, ids: list[str],
                   scans: Callable[[Engine, str, Any], list[str]]) -> dict[str, list[str]]:
    found = {}
    for name, read in reads(ids).items():
        sent = statements(engine, read)
        assert sent, name
        for statement, parameters in sent:
            if bad := scans(engine, statement, parameters):
                found[name] = bad
    return found


def test_no_history_read_scans_a_table(seeded: Seeded) -> None:
    engine, ids, scans = seeded
    if engine.dialect.name == "sqlite":
        # A new file has no statistics (nor a database served without the scheduler before
        # its first hour): every read must find its index without them, and with them.
        assert scanning_reads(engine, ids, scans) == {}, "without statistics"
        refresh_statistics(engine)
    assert scanning_reads(engine, ids, scans) == {}


def test_the_scan_detector_sees_a_scan(seeded: Seeded) -> None:
    """Guards the test above: a read no index narrows (every rollback of a model) is caught."""
    engine, _ids, scans = seeded
    (sent,) = statements(engine, lambda u: u.events.history("chat", play="rollback"))
    assert scans(engine, *sent)


def test_statistics_are_gathered(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'playbook.db'}")
    migrate(engine)
    seed(engine)
    with engine.connect() as conn:
        assert not conn.execute(text(
            "SELECT 1 FROM sqlite_master WHERE name = 'sqlite_stat1'")).first()
    refresh_statistics(engine)
    with engine.connect() as conn:
        analysed = {t for (t,) in conn.execute(text("SELECT DISTINCT tbl FROM sqlite_stat1"))}
    assert {"tag_events", "versions", "attributions", "incidents"} <= analysed
    engine.dispose()
