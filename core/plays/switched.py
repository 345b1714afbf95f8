"""Serving switched: the stage of a rollback when users get the restored version's answers.

Whichever arrives first marks an incident's `serving_switched_at` (its record then updates in
place): a serving process's report that its route changed (`reported`, sent by the client
library), or, as attributions are stored (`mark`), the first request the restored version
served after the rollback's tag move (the earliest served time in the batch). Only incidents
of the last day are watched, so the check is one index search per model and batch.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from core.domain import PRODUCTION, Attribution
from core.engine import PlayContext
from core.events import IncidentStageReached
from core.ports import UnitOfWork

WATCHED = timedelta(days=1)  # incidents opened longer ago than this are not watched


def _switched(uow: UnitOfWork, model: str, incident_id: str, at: datetime) -> bool:
    """Record serving switched (unless an earlier time is), with its event."""
    if not uow.incidents.mark_serving_switched(incident_id, at):
        return False
    uow.outbox.add(IncidentStageReached(model=model, incident_id=incident_id,
                                        stage="serving switched", at=at))
    return True


def mark(uow: UnitOfWork, model: str, records: Sequence[Attribution], now: datetime) -> None:
    """Production's incidents only: attributions do not say which tag a request followed,
    and production's traffic may well serve the version a rehearsal restored; a rehearsal's
    serving switch comes from its follower's report."""
    for incident in uow.incidents.awaiting_switch(model, now - WATCHED):
        if incident.tag != PRODUCTION:
            continue
        served = [a.served_at for a in records if a.version_id == incident.restored_version
                  and a.served_at >= incident.rolled_back_at]
        if served:
            _switched(uow, model, incident.id, min(served))


def reported(model: str, version_id: str, ctx: PlayContext,
             tag: str = PRODUCTION) -> list[str]:
    """A serving process says it now serves `version_id` of `tag` (the client library, when
    what it follows moves): the incidents of that tag that restored that version and were
    waiting for serving to switch are marked, at the time the report arrived. Answers their
    ids."""
    ctx.config.model(model)
    now = ctx.clock.now()
    with ctx.uow() as uow:
        marked = [i.id for i in uow.incidents.awaiting_switch(model, now - WATCHED)
                  if i.tag == tag and i.restored_version == version_id
                  and now >= i.rolled_back_at and _switched(uow, model, i.id, now)]
        uow.commit()
    return marked
