"""Serving switched: the stage of a rollback when users get the restored version's answers.

As attributions are stored, the first request a model's restored version served after its
rollback's tag move marks that incident's `serving_switched_at` (the incident record updates in
place). Only incidents of the last day are watched, so the check is one index search per model
and batch. A request served within the same batch, earlier than another, wins: the earliest
served time is the stage's time.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from core.domain import Attribution
from core.events import IncidentStageReached
from core.ports import UnitOfWork

WATCHED = timedelta(days=1)  # incidents opened longer ago than this are not watched


def mark(uow: UnitOfWork, model: str, records: Sequence[Attribution], now: datetime) -> None:
    waiting = uow.incidents.awaiting_switch(model, now - WATCHED)
    for incident in waiting:
        served = [a.served_at for a in records if a.version_id == incident.restored_version
                  and a.served_at >= incident.rolled_back_at]
        if not served:
            continue
        incident.serving_switched_at = min(served)
        uow.incidents.save(incident)
        uow.outbox.add(IncidentStageReached(model=model, incident_id=incident.id,
                                            stage="serving switched",
                                            at=incident.serving_switched_at))
