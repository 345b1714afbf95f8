"""Traffic served outside the registry (issue 14): requests attributed to a version that no
tag of its model pointed at when they were served. Counted per model, version and day as
attributions are stored (the digest shows the counts); the day a version crosses the model's
`outside_registry_alert`, the incident channel is told once.

A version counts as pointed at from the move that pointed a tag at it until the move that
pointed that tag elsewhere, widened by GRACE on both sides: serving learns of a move a moment
later (a client polling its route), and its clock is not the registry's.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import date, datetime, timedelta

from core.config import ModelPolicy
from core.domain import Attribution
from core.events import ServedOutsideRegistry
from core.ports import UnitOfWork

GRACE = timedelta(seconds=60)

Span = tuple[datetime, datetime | None]  # [from, until); until None: still pointed at


def pointed_spans(uow: UnitOfWork, model: str, version_id: str) -> list[Span]:
    """When any tag of the model pointed at the version: one index search of its moves."""
    spans: list[Span] = []
    since: dict[str, datetime] = {}  # tag -> when it came to point at the version
    for e in uow.events.touching(model, version_id):
        if e.to_version == version_id:
            since.setdefault(e.tag, e.at)
        elif e.from_version == version_id and e.tag in since:
            spans.append((since.pop(e.tag), e.at))
    spans += [(start, None) for start in since.values()]
    return spans


def outside(spans: Sequence[Span], served_at: datetime) -> bool:
    return not any(start - GRACE <= served_at and (until is None or served_at < until + GRACE)
                   for start, until in spans)


def count(uow: UnitOfWork, policy: ModelPolicy, stored: Sequence[Attribution],
          now: datetime) -> list[ServedOutsideRegistry]:
    """Count the newly stored records of `policy`'s model served outside the registry (in the
    caller's transaction); answers the events of versions that crossed the alert threshold."""
    spans: dict[str, list[Span]] = {}
    per_day: Counter[tuple[str, date]] = Counter()
    for a in stored:
        if a.version_id not in spans:
            spans[a.version_id] = pointed_spans(uow, policy.name, a.version_id)
        if outside(spans[a.version_id], a.served_at):
            per_day[(a.version_id, a.served_at.date())] += 1
    crossed = []
    for (version_id, day), n in sorted(per_day.items()):
        total = uow.attributions.count_outside(policy.name, version_id, day, n)
        limit = policy.outside_registry_alert
        if limit and total - n < limit <= total:
            crossed.append(ServedOutsideRegistry(
                model=policy.name, version_id=version_id, day=day,
                requests=total, threshold=limit, at=now))
    return crossed
