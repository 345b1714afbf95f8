"""Approval requests change under several hands (approvers, the expiry job, a new promotion
superseding them), so `save` is optimistic: it only writes over the revision it read."""

from __future__ import annotations

from sqlalchemy import insert, select, update
from sqlalchemy.exc import IntegrityError

from core.domain import ApprovalRequest, ApprovalStatus
from core.errors import AlreadyExists, Conflict, NotFound
from core.identity import short
from storage.errors import storage_error, translated
from storage.orm import ApprovalRequestRow
from storage.repositories.base import SqlRepository


class SqlApprovalRepository(SqlRepository):
    @translated("adding an approval request")
    def add(self, request: ApprovalRequest) -> None:
        values = ApprovalRequestRow.values(request) | {"revision": request.revision}
        try:
            with self._savepoint():
                self._write(insert(ApprovalRequestRow).values(values))
        except IntegrityError as exc:
            if self._by_key(ApprovalRequestRow, request.id) is not None:
                raise AlreadyExists(f"approval request {request.id} already exists") from exc
            if not self._version_exists(request.model, request.version_id):
                raise NotFound(f"no version {short(request.model, request.version_id)} "
                               "is registered") from exc
            raise storage_error(f"adding approval request {request.id}", exc) from exc

    @translated("reading an approval request")
    def get(self, request_id: str) -> ApprovalRequest | None:
        row = self._by_key(ApprovalRequestRow, request_id)
        return row.to_domain() if row else None

    @translated("saving an approval request")
    def save(self, request: ApprovalRequest) -> None:
        """Write the request if nobody saved it since it was read; bumps `request.revision`."""
        result = self._write(
            update(ApprovalRequestRow)
            .where(ApprovalRequestRow.id == request.id,
                   ApprovalRequestRow.revision == request.revision)
            .values(ApprovalRequestRow.values(request) | {"revision": request.revision + 1}))
        if result.rowcount == 1:
            request.revision += 1
            return
        if self._by_key(ApprovalRequestRow, request.id) is None:
            raise NotFound(f"no approval request {request.id}")
        raise Conflict(f"request {request.id} changed meanwhile",
                       hint="someone else decided or updated it; reload it and try again")

    @translated("listing approval requests")
    def pending(self, model: str | None = None) -> list[ApprovalRequest]:
        stmt = select(ApprovalRequestRow).where(
            ApprovalRequestRow.status == str(ApprovalStatus.PENDING))
        if model is not None:
            stmt = stmt.where(ApprovalRequestRow.model == model)
        stmt = stmt.order_by(ApprovalRequestRow.created_at, ApprovalRequestRow.id)
        return [row.to_domain() for row in self._rows(stmt)]

    @translated("listing approval requests")
    def for_version(self, model: str, version_id: str) -> list[ApprovalRequest]:
        stmt = (select(ApprovalRequestRow)
                .where(ApprovalRequestRow.model == model,
                       ApprovalRequestRow.version_id == version_id)
                .order_by(ApprovalRequestRow.created_at, ApprovalRequestRow.id))
        return [row.to_domain() for row in self._rows(stmt)]
