"""Running totals for /metrics, bumped in the same transaction as what they count (a tag
move, an incident opened, a delivery done or skipped), so a scrape reads a few rows instead of
counting the whole history, and a total is never ahead of or behind what it counts.

One row per (name, labels); a bump is an upsert that adds to it. Rows are always bumped in
the same order within a transaction (a tag move, then an incident's bucket, then its sum), so
two transactions never wait on each other's rows crosswise.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from core.domain import TIME_TO_ROLLBACK_BUCKETS, Incident, RollbackSeconds
from storage.orm_counters import CounterRow

TAG_MOVES = "tag_moves"  # labels: model, tag, play
ROLLBACK_BUCKET = "rollback_seconds_bucket"  # labels: model, bucket index (not cumulative)
ROLLBACK_SUM = "rollback_seconds_sum"  # labels: model
DELIVERIES = "outbox_deliveries"  # labels: handler, state (done, skipped)
OUTSIDE = "served_outside_registry"  # labels: model, version id, day (ISO date)


def label_key(values: Sequence[str]) -> str:
    return json.dumps(list(values), separators=(",", ":"))


def bump(session: Session, name: str, labels: Sequence[str], by: float = 1.0) -> float:
    """Add `by` to a total, creating it at `by`; answers the new total."""
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    stmt = insert(CounterRow).values(name=name, labels=label_key(labels), value=by)
    return float(session.execute(stmt.on_conflict_do_update(
        index_elements=[CounterRow.name, CounterRow.labels],
        set_={"value": CounterRow.value + stmt.excluded.value})
        .returning(CounterRow.value)).scalar_one())


def incident_opened(session: Session, incident: Incident) -> None:
    if incident.rehearsal:
        return
    bucket = RollbackSeconds.bucket_of(incident.time_to_rollback_s)
    bump(session, ROLLBACK_BUCKET, (incident.model, str(bucket)))
    bump(session, ROLLBACK_SUM, (incident.model,), incident.time_to_rollback_s)


def totals(session: Session, name: str,
           first: str | None = None) -> dict[tuple[str, ...], float]:
    """A counter's totals by labels; those whose first label is `first` when given (a range
    of the primary key, so the other models' rows are never read)."""
    stmt = select(CounterRow.labels, CounterRow.value).where(CounterRow.name == name)
    if first is not None:
        prefix = label_key([first])[:-1] + ","  # '["chat",' starts every row of chat
        stmt = stmt.where(CounterRow.labels >= prefix, CounterRow.labels < prefix + "\uffff")
    return {tuple(json.loads(labels)): float(value)
            for labels, value in session.execute(stmt)}


def rollback_seconds(session: Session) -> dict[str, RollbackSeconds]:
    buckets = totals(session, ROLLBACK_BUCKET)
    sums = totals(session, ROLLBACK_SUM)
    per_model: dict[str, list[int]] = {}
    for (model, index), n in buckets.items():
        per_model.setdefault(model, [0] * (len(TIME_TO_ROLLBACK_BUCKETS) + 1))[int(index)] = \
            int(n)
    return {model: RollbackSeconds(tuple(counts), sums.get((model,), 0.0))
            for model, counts in sorted(per_model.items())}
