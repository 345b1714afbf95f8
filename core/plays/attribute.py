"""Attribution: every production response names the version that served it (for play 5).

A batch is all or nothing: a bad record is reported by its index and nothing of the batch is
stored. Request ids already recorded are skipped, so a retried batch is harmless.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from pydantic import ValidationError

from core import serialize
from core.commands import AttributionIn, nul_at
from core.domain import ATTRIBUTION_RETRY_WINDOW, Attribution
from core.engine import PlayContext
from core.errors import InvalidInput, PlaybookError
from core.identity import HEX64
from core.plays import outside, switched
from core.plays.common import resolve


@dataclass(frozen=True)
class Attributed:
    received: int
    stored: int
    duplicates: int


def _refuse_conflicts(batch: list[Attribution], stored: dict[str, tuple[str, str]]) -> None:
    """A request id is attributed once: the same record again is a harmless retry, but the same
    request naming another version would make the audit answer depend on who wrote first."""
    seen = dict(stored)
    for i, a in enumerate(batch):
        first = seen.setdefault(a.request_id, (a.model, a.version_id))
        if first != (a.model, a.version_id):
            raise InvalidInput(
                f"records[{i}].version",
                f"request {a.request_id!r} is already attributed to {first[0]}@{first[1][:12]}, "
                f"not {a.model}@{a.version_id[:12]}",
                hint="a request is served by one version; fix the serving code's record. "
                     "Nothing of this batch was stored")


def _check_served_at(i: int, served_at: datetime, now: datetime, retention_days: int) -> None:
    """A serving host's clock may run ahead of ours (its records are kept as it says; see
    storage/partitions.py for how far ahead), but nothing already past retention is kept."""
    if retention_days and served_at < now - timedelta(days=retention_days):
        raise InvalidInput(
            f"records[{i}].served_at",
            f"{serialize.ts(served_at)} is older than attribution_retention_days "
            f"({retention_days}): it would be deleted at once",
            hint="send only records within retention ([schedule] in playbook.toml). "
                 "Nothing of this batch was stored")


def attribute(records: Iterable[Mapping[str, Any]], ctx: PlayContext) -> Attributed:
    now = ctx.clock.now()
    batch: list[Attribution] = []
    known: dict[tuple[str, str], str] = {}
    with ctx.uow() as uow:
        for i, raw in enumerate(records):
            nul = nul_at(raw)
            if nul:
                raise InvalidInput(f"records[{i}].{nul}", "contains a NUL character (\\x00)",
                                   hint="remove it; nothing of this batch was stored")
            try:
                rec = AttributionIn.model_validate(raw)
                ctx.config.model(rec.model)
                key = (rec.model, rec.version)
                if key not in known:
                    ref = rec.version
                    if HEX64.match(ref) and uow.versions.get(rec.model, ref) is not None:
                        known[key] = ref
                    else:
                        known[key] = resolve(uow, rec.model, ref).id
            except ValidationError as exc:
                e = exc.errors()[0]
                field = ".".join(str(p) for p in e["loc"])
                raise InvalidInput(f"records[{i}].{field}", str(e["msg"]),
                                   hint="nothing of this batch was stored") from exc
            except PlaybookError as exc:
                raise InvalidInput(f"records[{i}]", str(exc),
                                   hint="nothing of this batch was stored") from exc
            served_at = rec.served_at or now
            _check_served_at(i, served_at, now, ctx.config.schedule.attribution_retention_days)
            batch.append(Attribution(
                request_id=rec.request_id, model=rec.model, version_id=known[key],
                served_at=served_at, latency_ms=rec.latency_ms, error=rec.error,
                feedback=rec.feedback))
        _refuse_conflicts(batch, {})
        new = set(uow.attributions.add_new(batch)) if batch else set()
        stored = len(new)
        distinct = {a.request_id for a in batch}
        if stored < len(distinct):
            # Some were recorded before: a retry, unless one names another version. Asked only
            # then, so the common all-new batch costs no extra query; nothing is committed yet.
            served = [a.served_at for a in batch]
            _refuse_conflicts(batch, uow.attributions.served_by(distinct, around=(
                min(served) - ATTRIBUTION_RETRY_WINDOW, max(served) + ATTRIBUTION_RETRY_WINDOW)))
        fresh: dict[str, list[Attribution]] = {}
        for a in batch:
            if a.request_id in new:
                new.discard(a.request_id)  # the first record of a request id is the one kept
                fresh.setdefault(a.model, []).append(a)
        for model, kept in fresh.items():  # a retried record is not counted twice
            for crossed in outside.count(uow, ctx.config.model(model), kept, now):
                uow.outbox.add(crossed)
            switched.mark(uow, model, kept, now)
        uow.commit()
    return Attributed(received=len(batch), stored=stored, duplicates=len(batch) - stored)
