"""Tags and their event log: the two tables every promotion and rollback writes together.

A tag moves only by compare-and-set on its revision, and the log accepts one event per
(model, tag, revision); so of two racing moves exactly one commits and the history of a tag
stays a single chain. Both hold under READ COMMITTED on PostgreSQL (the losing UPDATE re-checks
the revision after the winner commits, the losing INSERT hits the unique key) and on SQLite
(writers queue on BEGIN IMMEDIATE).
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import replace
from datetime import UTC, datetime

from sqlalchemy import ColumnElement, Insert, Update, insert, select, union, update
from sqlalchemy.exc import IntegrityError

from core.domain import Tag, TagMoved
from core.errors import InvalidInput, NotFound, TagMovedMeanwhile
from core.identity import short
from storage.errors import translated
from storage.orm import TagEventRow, TagRow
from storage.repositories import counters
from storage.repositories.base import SqlRepository


class SqlTagRepository(SqlRepository):
    @translated("reading a tag")
    def get(self, model: str, tag: str) -> Tag | None:
        row = self._by_key(TagRow, (model, tag))
        return row.to_domain() if row else None

    @translated("listing tags")
    def list(self, model: str | None = None) -> list[Tag]:
        stmt = select(TagRow).order_by(TagRow.model, TagRow.name)
        if model is not None:
            stmt = stmt.where(TagRow.model == model)
        return [row.to_domain() for row in self._rows(stmt)]

    @translated("moving a tag")
    def compare_and_set(self, model: str, tag: str, expected_revision: int, version_id: str,
                        at: datetime) -> Tag:
        if expected_revision < 0:
            raise InvalidInput("expected_revision", f"must be >= 0, got {expected_revision}")
        stmt: Insert | Update
        if expected_revision == 0:
            stmt = insert(TagRow).values(model=model, name=tag, version_id=version_id,
                                         revision=1, moved_at=at)
        else:
            stmt = (update(TagRow)
                    .where(TagRow.model == model, TagRow.name == tag,
                           TagRow.revision == expected_revision)
                    .values(version_id=version_id, revision=TagRow.revision + 1,
                            moved_at=at))
        try:
            with self._savepoint():
                moved = self._write(stmt).rowcount
        except IntegrityError as exc:
            if not self._version_exists(model, version_id):
                raise NotFound(f"no version {short(model, version_id)} is registered",
                               hint="register it before pointing a tag at it") from exc
            raise TagMovedMeanwhile(model, tag, expected_revision) from exc
        if expected_revision > 0 and moved != 1:  # an INSERT either succeeds or raises
            raise TagMovedMeanwhile(model, tag, expected_revision)
        return Tag(model=model, name=tag, version_id=version_id,
                   revision=expected_revision + 1, moved_at=at.astimezone(UTC))


class SqlEventLog(SqlRepository):
    @translated("recording a tag event")
    def append(self, event: TagMoved) -> TagMoved:
        try:
            with self._savepoint():
                result = self._write(insert(TagEventRow).values(TagEventRow.values(event)))
        except IntegrityError as exc:
            for vid in (event.to_version, event.from_version):
                if not self._version_exists(event.model, vid):
                    raise NotFound(f"no version {short(event.model, vid or '')} is registered"
                                   ) from exc
            raise TagMovedMeanwhile(event.model, event.tag, event.revision - 1) from exc
        counters.bump(self._session, counters.TAG_MOVES, (event.model, event.tag, event.play))
        seq = result.inserted_primary_key[0] if result.inserted_primary_key else None
        return replace(event, seq=int(seq) if seq is not None else None,
                       at=event.at.astimezone(UTC))

    @translated("reading tag history")
    def history(self, model: str, tag: str | None = None, *, since: datetime | None = None,
                until: datetime | None = None, before_seq: int | None = None,
                play: str | None = None, limit: int | None = None,
                newest_first: bool = False) -> list[TagMoved]:
        conditions: list[ColumnElement[bool]] = [TagEventRow.model == model]
        if tag is not None:
            conditions.append(TagEventRow.tag == tag)
        if since is not None:
            conditions.append(TagEventRow.at >= since)
        if until is not None:
            conditions.append(TagEventRow.at <= until)
        if before_seq is not None:
            conditions.append(TagEventRow.seq < before_seq)
        if play is not None:
            conditions.append(TagEventRow.play == play)
        e = TagEventRow
        # A time bound reads along the (model, tag, at, seq) or (model, at) index, in its
        # order, so the LIMIT stops early and nothing is sorted; the answer is then put in
        # seq order. Without one, the (model, tag, seq) index gives seq order directly.
        timed = since is not None or until is not None
        order = ((e.at.desc(), e.seq.desc()) if newest_first else (e.at, e.seq)) if timed \
            else ((e.seq.desc(),) if newest_first else (e.seq,))
        stmt = select(TagEventRow).where(*conditions).order_by(*order)
        if limit is not None:
            stmt = stmt.limit(limit)
        found = [row.to_domain() for row in self._rows(stmt)]
        if timed:
            found.sort(key=lambda moved: moved.seq or 0, reverse=newest_first)
        return found

    @translated("reading tag history")
    def touching(self, model: str, version_id: str) -> list[TagMoved]:
        # One index search per side, whatever the planner knows (an OR of the two can make
        # SQLite without statistics read every event of the model instead).
        e = TagEventRow
        seqs = union(select(e.seq).where(e.model == model, e.from_version == version_id),
                     select(e.seq).where(e.model == model, e.to_version == version_id))
        stmt = select(e).where(e.seq.in_(select(seqs.subquery().c.seq))).order_by(e.seq)
        return [row.to_domain() for row in self._rows(stmt)]

    @translated("reading tag history")
    def rolled_back_from(self, model: str, tag: str,
                         version_ids: Collection[str]) -> set[str]:
        if not version_ids:
            return set()
        # Searched on (model, from_version) alone, the index that narrows it to these
        # versions' few moves; tag and play are checked on those.
        e = TagEventRow
        stmt = (select(e.from_version, e.tag, e.play)
                .where(e.model == model, e.from_version.in_(list(version_ids))))
        return {v for v, t, p in self._session.execute(stmt)
                if v is not None and t == tag and p == "rollback"}

    @translated("reading tag history")
    def ever_pointed(self, model: str, tag: str, version_id: str) -> bool:
        # Searched on (model, to_version), the version's few moves, then the tag among them.
        stmt = select(TagEventRow.tag).where(TagEventRow.model == model,
                                             TagEventRow.to_version == version_id)
        return tag in set(self._session.scalars(stmt))
