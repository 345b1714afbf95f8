"""Versions: immutable records under a content-derived id, so adding twice is a conflict."""

from __future__ import annotations

import builtins
import functools
import re
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Select, String, bindparam, insert, literal, select, type_coerce, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import aliased

from core.domain import Ancestor, Version
from core.errors import AlreadyExists, NotFound
from core.identity import short
from storage.errors import storage_error, translated
from storage.orm import VersionRow
from storage.repositories.base import SqlRepository

HEX_PREFIX = re.compile(r"^[0-9a-f]+$")


class SqlVersionRepository(SqlRepository):
    @translated("adding a version")
    def add(self, version: Version) -> None:
        depth, root_id = 0, version.id
        if version.parent_id is not None:
            parent = self._session.execute(
                select(VersionRow.depth, VersionRow.root_id)
                .where(VersionRow.model == version.model, VersionRow.id == version.parent_id)
            ).first()
            if parent is not None:  # an unregistered parent ends the chain, as in ancestry
                depth, root_id = parent.depth + 1, parent.root_id
        try:
            with self._savepoint():
                self._write(insert(VersionRow).values(
                    VersionRow.values(version, depth=depth, root_id=root_id)))
        except IntegrityError as exc:
            if self._version_exists(version.model, version.id):
                raise AlreadyExists(f"version {version.short} is already registered",
                                    hint="same content, same version: use the existing one"
                                    ) from exc
            raise storage_error(f"adding version {version.short}", exc) from exc

    @translated("reading a version")
    def get(self, model: str, version_id: str) -> Version | None:
        row = self._by_key(VersionRow, (model, version_id))
        return row.to_domain() if row else None

    @translated("looking up a version id prefix")
    def ids_with_prefix(self, model: str, prefix: str, limit: int = 6) -> list[str]:
        """Ids are lowercase hex, so [prefix, prefix + "g") bounds every id starting with
        prefix in any collation: the primary key index answers it, even where LIKE alone
        could not use the index (PostgreSQL outside the C locale, SQLite's LIKE)."""
        if not HEX_PREFIX.match(prefix):
            return []
        stmt = (select(VersionRow.id)
                .where(VersionRow.model == model, VersionRow.id >= prefix,
                       VersionRow.id < prefix + "g",
                       VersionRow.id.startswith(prefix, autoescape=True))
                .order_by(VersionRow.id).limit(limit))
        return list(self._session.scalars(stmt))

    @translated("listing versions")
    def list(self, model: str, *, limit: int = 50, kind: str | None = None) -> list[Version]:
        stmt = select(VersionRow).where(VersionRow.model == model)
        if kind is not None:
            stmt = stmt.where(VersionRow.kind == kind)
        stmt = stmt.order_by(VersionRow.created_at.desc(), VersionRow.id).limit(limit)
        return [row.to_domain() for row in self._rows(stmt)]

    @translated("listing versions that hold artifacts")
    def with_live_artifacts(self, model: str | None = None) -> builtins.list[Version]:
        stmt = select(VersionRow).where(VersionRow.artifact_count > 0,
                                        VersionRow.artifacts_collected_at.is_(None))
        if model is not None:
            stmt = stmt.where(VersionRow.model == model)
        stmt = stmt.order_by(VersionRow.created_at, VersionRow.model, VersionRow.id)
        return [row.to_domain() for row in self._rows(stmt)]

    @translated("reading a version's lineage")
    def ancestry(self, model: str, version_id: str,
                 limit: int | None = None) -> builtins.list[Ancestor]:
        if limit is not None and limit <= 0:
            return []
        # Core, not the ORM session's execute: plain rows, without the ORM's result
        # machinery (a third of the time of a 10,000-deep chain).
        sqlite = self._conn.dialect.name == "sqlite"
        rows = self._conn.execute(_ancestry_statement(sqlite), {
            "model": model, "version_id": version_id, "limit": limit or UNBOUNDED}).all()
        if not sqlite:
            return [Ancestor(*row) for row in rows]
        # SQLite's stored UTC text, parsed by datetime's C parser: SQLAlchemy's own result
        # processing of 10,000 times cost a fifth of the whole chain's audit.
        parse = datetime.fromisoformat
        return [Ancestor(m, i, o, r, parse(t).replace(tzinfo=UTC), d, root)
                for m, i, o, r, t, d, root in rows]

    @translated("marking artifacts collected")
    def mark_artifacts_collected(self, model: str, version_id: str, at: datetime) -> None:
        result = self._write(
            update(VersionRow)
            .where(VersionRow.model == model, VersionRow.id == version_id)
            .values(artifacts_collected_at=at))
        if result.rowcount == 0:
            raise NotFound(f"no version {short(model, version_id)} is registered")




UNBOUNDED = 2**31 - 1  # `limit` when the whole chain is asked for


@functools.cache
def _ancestry_statement(raw_times: bool = False) -> Select[Any]:
    """A recursive CTE walks parent ids from the version up, reading only the columns a
    lineage shows. Each step must reach a smaller stored depth, which ends the walk even on
    a cycle a hand-edited database could hold; the `limit` parameter ends it sooner. Built
    once (building it costs more than running it) and bound per call."""
    v = VersionRow
    start = (select(v.model, v.id, v.parent_id, v.owner, v.reason, v.created_at, v.depth,
                    v.root_id, literal(0).label("n"))
             .where(v.model == bindparam("model"), v.id == bindparam("version_id"))
             .cte("lineage", recursive=True))
    up = aliased(VersionRow)
    step = (select(up.model, up.id, up.parent_id, up.owner, up.reason, up.created_at,
                   up.depth, up.root_id, start.c.n + 1)
            .where(up.model == start.c.model, up.id == start.c.parent_id,
                   up.depth < start.c.depth, start.c.n < bindparam("limit") - 1))
    chain = start.union_all(step)
    created = type_coerce(chain.c.created_at, String()) if raw_times else chain.c.created_at
    return select(chain.c.model, chain.c.id, chain.c.owner, chain.c.reason,
                  created, chain.c.depth, chain.c.root_id).order_by(chain.c.n)
