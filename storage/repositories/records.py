"""Incidents, attributions and play runs: records written once and read by audits.

Attributions arrive in batches from serving and are retried on timeouts, so `add_many` is
idempotent per request id and inserts with one executemany of Core rows; ORM objects would
cost more than the database does.
"""

from __future__ import annotations

import builtins
import zlib
from collections.abc import Collection, Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    Table,
    bindparam,
    func,
    insert,
    or_,
    select,
    text,
    union,
    update,
)
from sqlalchemy.dialects import sqlite
from sqlalchemy.exc import IntegrityError

from core.domain import ATTRIBUTION_RETRY_WINDOW, Attribution, Detection, Incident, PlayRun
from core.errors import AlreadyExists, NotFound
from storage import partitions
from storage.columns import UTCDateTime
from storage.errors import storage_error, translated
from storage.orm import AttributionRow, IncidentRow, PlayRunRow
from storage.orm_detections import DetectionRow
from storage.repositories import counters
from storage.repositories.base import SqlRepository

ATTRIBUTIONS: Table = AttributionRow.__table__  # type: ignore[assignment]
SQLITE_INSERT_NEW = sqlite.insert(ATTRIBUTIONS).on_conflict_do_nothing(
    index_elements=["request_id"]).returning(ATTRIBUTIONS.c.request_id)
# Bounds one statement's parameters (7 per row) below PostgreSQL's 65,535 and SQLite's 32,766.
BATCH = 1000
UNNEST_COLUMNS = ("request_id", "model", "version_id", "served_at", "latency_ms", "error",
                  "feedback")
# Newest record first: on PostgreSQL a request id is unique per partition, not across them.
SERVED_BY_ANY = text("SELECT request_id, model, version_id FROM attributions "
                     "WHERE request_id = ANY(CAST(:ids AS varchar[])) ORDER BY served_at")
# PostgreSQL's attributions are partitioned by week of served_at (storage/partitions.py), and
# no index spans partitions: the conflict target is (request_id, served_at), which catches a
# retry that carries its served_at. A record sent without one gets the time it arrived, which
# differs on a retry; one sent again within RETRY_WINDOW of the first is recognised by a probe
# of the one or two partitions around it (pruned at run time), so it is not stored twice.
# OFFSET 0 keeps that probe per record: as an anti join the planner, which does not count run
# time pruning, would hash-join the batch against a full read of every partition (1.3 s a
# batch at 57 weeks of 100,000 rows).
RETRY_WINDOW = f"{ATTRIBUTION_RETRY_WINDOW.total_seconds():.0f} seconds"
SERVED_BY_ANY_AROUND = text(
    "SELECT request_id, model, version_id FROM attributions "
    "WHERE request_id = ANY(CAST(:ids AS varchar[])) AND served_at >= :since "
    "AND served_at <= :until ORDER BY served_at").bindparams(
    bindparam("since", type_=UTCDateTime()), bindparam("until", type_=UTCDateTime()))
UNNEST_INSERT = text(
    "INSERT INTO attributions (request_id, model, version_id, served_at, latency_ms, error, "
    "feedback) SELECT * FROM unnest(CAST(:request_id AS varchar[]), CAST(:model AS varchar[]), "
    "CAST(:version_id AS varchar[]), CAST(:served_at AS timestamptz[]), "
    "CAST(:latency_ms AS float8[]), CAST(:error AS boolean[]), CAST(:feedback AS float8[])) "
    "AS u(request_id, model, version_id, served_at, latency_ms, error, feedback) "
    "WHERE NOT EXISTS (SELECT 1 FROM attributions a WHERE a.request_id = u.request_id "
    f"AND a.served_at >= u.served_at - interval '{RETRY_WINDOW}' "
    f"AND a.served_at <= u.served_at + interval '{RETRY_WINDOW}' OFFSET 0) "
    "ON CONFLICT (request_id, served_at) DO NOTHING RETURNING request_id")


class SqlIncidentRepository(SqlRepository):
    @translated("adding an incident")
    def add(self, incident: Incident) -> None:
        try:
            with self._savepoint():
                self._write(insert(IncidentRow).values(IncidentRow.values(incident)))
        except IntegrityError as exc:
            if self._by_key(IncidentRow, incident.id) is not None:
                raise AlreadyExists(f"incident {incident.id} already exists") from exc
            raise storage_error(f"adding incident {incident.id} (are both versions "
                                "registered?)", exc) from exc
        counters.incident_opened(self._session, incident)

    @translated("reading an incident")
    def get(self, incident_id: str) -> Incident | None:
        row = self._by_key(IncidentRow, incident_id)
        return row.to_domain() if row else None

    @translated("saving an incident")
    def save(self, incident: Incident) -> None:
        values = IncidentRow.values(incident)  # a recorded serving switch is never erased
        values["serving_switched_at"] = func.coalesce(IncidentRow.serving_switched_at,
                                                      incident.serving_switched_at)
        result = self._write(update(IncidentRow).where(IncidentRow.id == incident.id)
                             .values(values))
        if result.rowcount == 0:
            raise NotFound(f"no incident {incident.id}")

    @translated("listing incidents")
    def list(self, model: str | None = None, *, limit: int = 50,
             since: datetime | None = None,
             rehearsal: bool | None = None) -> list[Incident]:
        stmt = select(IncidentRow).order_by(IncidentRow.opened_at.desc(), IncidentRow.id)
        if model is not None:
            stmt = stmt.where(IncidentRow.model == model)
        if since is not None:
            stmt = stmt.where(IncidentRow.opened_at >= since)
        if rehearsal is not None:
            stmt = stmt.where(IncidentRow.rehearsal.is_(rehearsal))
        return [row.to_domain() for row in self._rows(stmt.limit(limit))]

    @translated("listing incidents")
    def for_version(self, model: str, version_id: str) -> builtins.list[Incident]:
        i = IncidentRow  # one index search per side (see SqlEventLog.touching)
        ids = union(select(i.id).where(i.model == model, i.bad_version == version_id),
                    select(i.id).where(i.model == model, i.restored_version == version_id))
        stmt = (select(i).where(i.id.in_(select(ids.subquery().c.id)))
                .order_by(i.opened_at, i.id))
        return [row.to_domain() for row in self._rows(stmt)]

    @translated("recording serving switched")
    def mark_serving_switched(self, incident_id: str, at: datetime) -> bool:
        i = IncidentRow
        done = self._write(update(i).where(i.id == incident_id, or_(
            i.serving_switched_at.is_(None), i.serving_switched_at > at))
            .values(serving_switched_at=at))
        return bool(done.rowcount)

    @translated("listing incidents awaiting serving")
    def awaiting_switch(self, model: str, since: datetime) -> builtins.list[Incident]:
        i = IncidentRow  # along (model, opened_at): the hot path of attribution ingest
        stmt = (select(i).where(i.model == model, i.opened_at >= since,
                                i.serving_switched_at.is_(None))
                .order_by(i.opened_at, i.id))
        return [row.to_domain() for row in self._rows(stmt)]

    @translated("listing unconfirmed incidents")
    def unconfirmed(self, opened_before: datetime) -> builtins.list[Incident]:
        stmt = (select(IncidentRow)
                .where(IncidentRow.confirmation.is_(None),
                       IncidentRow.opened_at < opened_before)
                .order_by(IncidentRow.opened_at, IncidentRow.id).limit(100))
        return [row.to_domain() for row in self._rows(stmt)]


class SqlDetectionRepository(SqlRepository):
    @translated("recording a detected incident")
    def add(self, detection: Detection) -> None:
        try:
            with self._savepoint():
                self._write(insert(DetectionRow).values(DetectionRow.values(detection)))
        except IntegrityError as exc:
            raise AlreadyExists(f"detection {detection.id} already exists") from exc

    @translated("reading a detected incident")
    def get(self, detection_id: str) -> Detection | None:
        row = self._by_key(DetectionRow, detection_id)
        return row.to_domain() if row else None

    @translated("waiting for another delivery of the same alert")
    def lock(self, model: str, fingerprint: str) -> None:
        self._writable()
        if self._conn.dialect.name == "postgresql":  # SQLite: writers take turns already
            key = zlib.crc32(f"playbook:alert:{model}:{fingerprint}".encode())
            self._conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": key})

    def _change(self, detection_id: str, **values: Any) -> int:
        d = DetectionRow
        return int(self._write(update(d).where(d.id == detection_id).values(values)).rowcount)

    @translated("saving a detected incident")
    def save_alert(self, detection: Detection) -> None:
        d = detection
        if not self._change(d.id, status=d.status, fired=d.fired, flaps=d.flaps,
                            summary=d.summary, resolved_at=d.resolved_at,
                            updated_at=d.updated_at):
            raise NotFound(f"no detection {d.id}")

    @translated("deciding a detected incident")
    def decide(self, detection_id: str, *, expected: str, state: str, by: str | None,
               at: datetime, incident_id: str | None = None) -> bool:
        d = DetectionRow
        done = self._write(update(d).where(d.id == detection_id, d.state == expected).values(
            state=state, decided_by=by, decided_at=at, updated_at=at, incident_id=incident_id))
        return bool(done.rowcount)

    @translated("saving an investigation's verdict")
    def set_verdict(self, detection_id: str, verdict: str) -> None:
        self._change(detection_id, verdict=verdict)

    @translated("reading detected incidents")
    def latest(self, model: str, fingerprint: str) -> Detection | None:
        d = DetectionRow
        row = self._first(select(d).where(d.model == model, d.fingerprint == fingerprint)
                          .order_by(d.received_at.desc(), d.id.desc()))
        return row.to_domain() if row else None

    @translated("listing detected incidents")
    def list(self, model: str | None = None, *, limit: int = 50) -> builtins.list[Detection]:
        d = DetectionRow
        stmt = select(d).order_by(d.received_at.desc(), d.id.desc()).limit(limit)
        if model is not None:
            stmt = stmt.where(d.model == model)
        return [row.to_domain() for row in self._rows(stmt)]


class SqlAttributionRepository(SqlRepository):
    def add_many(self, records: Sequence[Attribution]) -> int:
        return len(self.add_new(records))

    @translated("recording attributions")
    def add_new(self, records: Sequence[Attribution]) -> builtins.list[str]:
        unique: dict[str, dict[str, Any]] = {}
        for record in records:  # the first record of a request id wins, as in the table
            unique.setdefault(record.request_id, AttributionRow.values(record))
        self._writable()
        if not unique:
            return []
        rows = list(unique.values())
        if self._conn.dialect.name == "postgresql":
            return self._add_many_unnest(rows)
        stmt = SQLITE_INSERT_NEW
        added: list[str] = []
        for start in range(0, len(rows), BATCH):
            # executemany's rowcount is -1 on psycopg; RETURNING says exactly what was new.
            result = self._conn.execute(stmt, rows[start:start + BATCH])
            added += [rid for (rid,) in result.all()]
        return added

    def _add_many_unnest(self, rows: list[dict[str, Any]]) -> builtins.list[str]:
        """PostgreSQL: one statement of seven array parameters per batch. A multi-row VALUES
        insert of 7,000 placeholders is parsed and planned anew every batch (about 25k rows/s);
        this is planned once and runs at about 60k rows/s."""
        added: list[str] = []
        for start in range(0, len(rows), BATCH):
            chunk = rows[start:start + BATCH]
            params = {col: [r[col] for r in chunk] for col in UNNEST_COLUMNS}
            try:
                with self._savepoint():
                    found = self._conn.execute(UNNEST_INSERT, params).all()
            except IntegrityError as exc:
                if "no partition" not in str(exc.orig):
                    raise
                # Served past the partitions made ahead (the scheduler has not run for
                # weeks, or a host's clock runs ahead), or before the oldest (retention was
                # lengthened): make them, in their own transaction, and insert again.
                served = params["served_at"]
                partitions.ensure(self._conn.engine, max(served), min(served),
                                  at_most=partitions.ON_DEMAND)
                found = self._conn.execute(UNNEST_INSERT, params).all()
            added += [rid for (rid,) in found]
        return added


    @translated("counting traffic served outside the registry")
    def count_outside(self, model: str, version_id: str, day: date, n: int) -> int:
        self._writable()
        return int(counters.bump(self._session, counters.OUTSIDE,
                                 (model, version_id, day.isoformat()), n))

    @translated("reading traffic served outside the registry")
    def outside(self, since: date,
                model: str | None = None) -> builtins.list[tuple[str, str, date, int]]:
        found = counters.totals(self._session, counters.OUTSIDE, model)
        return sorted((m, v, date.fromisoformat(d), int(n)) for (m, v, d), n in found.items()
                      if date.fromisoformat(d) >= since)

    @translated("reading attributions")
    def served_by(self, request_ids: Collection[str], around: tuple[datetime, datetime] | None
                  = None) -> dict[str, tuple[str, str]]:
        ids = list(request_ids)
        if self._conn.dialect.name == "postgresql":  # one array parameter
            if around is None:
                rows = self._conn.execute(SERVED_BY_ANY, {"ids": ids})
            else:  # the partitions of that span only (a retried batch of 1,000 costs
                # 1 s when every partition of a year is searched)
                rows = self._conn.execute(SERVED_BY_ANY_AROUND, {
                    "ids": ids, "since": around[0], "until": around[1]})
            return {rid: (model, vid) for rid, model, vid in rows}
        found: dict[str, tuple[str, str]] = {}
        for start in range(0, len(ids), BATCH):
            stmt = select(ATTRIBUTIONS.c.request_id, ATTRIBUTIONS.c.model,
                          ATTRIBUTIONS.c.version_id).where(
                ATTRIBUTIONS.c.request_id.in_(ids[start:start + BATCH]))
            found.update({rid: (model, vid) for rid, model, vid in self._conn.execute(stmt)})
        return found

    @translated("counting attributions")
    def count(self, model: str, since: datetime, until: datetime) -> int:
        stmt = select(func.count()).select_from(ATTRIBUTIONS).where(
            ATTRIBUTIONS.c.model == model, ATTRIBUTIONS.c.served_at >= since,
            ATTRIBUTIONS.c.served_at < until)
        return int(self._conn.execute(stmt).scalar_one())

    @translated("reading an attribution")
    def get(self, request_id: str) -> Attribution | None:
        """On PostgreSQL, partitions are searched newest first and the search stops at the
        first that holds the request: a recent request costs one index probe."""
        a = AttributionRow
        row = self._first(select(a).where(a.request_id == request_id)
                          .order_by(a.served_at.desc()))
        return row.to_domain() if row else None


class SqlRunRepository(SqlRepository):
    @translated("recording a play run")
    def add(self, run: PlayRun) -> None:
        try:
            with self._savepoint():
                self._write(insert(PlayRunRow).values(PlayRunRow.values(run)))
        except IntegrityError as exc:
            raise AlreadyExists(f"play run {run.id} is already recorded") from exc

    @translated("recording a play run")
    def save(self, run: PlayRun) -> None:
        values = PlayRunRow.values(run)
        done = self._write(update(PlayRunRow).where(PlayRunRow.id == run.id)
                           .values({k: v for k, v in values.items() if k != "id"}))
        if not done.rowcount:
            raise NotFound(f"play run {run.id} was never recorded")

    @translated("reading play runs")
    def running(self, started_before: datetime) -> list[PlayRun]:
        rows = self._rows(select(PlayRunRow).where(PlayRunRow.status == "running",
                                                   PlayRunRow.started_at < started_before)
                          .order_by(PlayRunRow.started_at, PlayRunRow.id).limit(100))
        return [row.to_domain() for row in rows]

    @translated("reading a play run")
    def get(self, run_id: str) -> PlayRun | None:
        row = self._by_key(PlayRunRow, run_id)
        return row.to_domain() if row else None

    @translated("listing play runs")
    def list(self, *, play: str | None = None, limit: int = 20) -> list[PlayRun]:
        stmt = select(PlayRunRow).order_by(PlayRunRow.started_at.desc(), PlayRunRow.id)
        if play is not None:
            stmt = stmt.where(PlayRunRow.play == play)
        return [row.to_domain() for row in self._rows(stmt.limit(limit))]
