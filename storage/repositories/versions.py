"""Versions: immutable records under a content-derived id, so adding twice is a conflict."""

from __future__ import annotations

import builtins
import re
from datetime import datetime

from sqlalchemy import and_, insert, literal, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import aliased

from core.domain import Version
from core.errors import AlreadyExists, NotFound
from core.identity import short
from storage.errors import storage_error, translated
from storage.orm import VersionRow
from storage.repositories.base import SqlRepository

HEX_PREFIX = re.compile(r"^[0-9a-f]+$")


class SqlVersionRepository(SqlRepository):
    @translated("adding a version")
    def add(self, version: Version) -> None:
        try:
            with self._savepoint():
                self._write(insert(VersionRow).values(VersionRow.values(version)))
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
    def lineage(self, model: str, version_id: str, limit: int) -> builtins.list[Version]:
        """A recursive CTE walks parent ids from the version up, at most `limit` rows (the
        depth bound ends the recursion too), then the rows come back nearest first."""
        if limit <= 0:
            return []
        start = (select(VersionRow.model, VersionRow.id, VersionRow.parent_id,
                        literal(0).label("depth"))
                 .where(VersionRow.model == model, VersionRow.id == version_id)
                 .cte("lineage", recursive=True))
        parent = aliased(VersionRow)
        chain = start.union_all(
            select(parent.model, parent.id, parent.parent_id, start.c.depth + 1)
            .where(parent.model == start.c.model, parent.id == start.c.parent_id,
                   start.c.depth < limit - 1))
        stmt = (select(VersionRow)
                .join(chain, and_(VersionRow.model == chain.c.model, VersionRow.id == chain.c.id))
                .order_by(chain.c.depth).limit(limit))
        return [row.to_domain() for row in self._rows(stmt)]

    @translated("marking artifacts collected")
    def mark_artifacts_collected(self, model: str, version_id: str, at: datetime) -> None:
        result = self._write(
            update(VersionRow)
            .where(VersionRow.model == model, VersionRow.id == version_id)
            .values(artifacts_collected_at=at))
        if result.rowcount == 0:
            raise NotFound(f"no version {short(model, version_id)} is registered")


