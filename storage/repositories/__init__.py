"""SQL implementations of the repository ports in core.ports."""

from storage.repositories.approvals import SqlApprovalRepository
from storage.repositories.records import (
    SqlAttributionRepository,
    SqlDetectionRepository,
    SqlIncidentRepository,
    SqlRunRepository,
)
from storage.repositories.tags import SqlEventLog, SqlTagRepository
from storage.repositories.versions import SqlVersionRepository

__all__ = [
    "SqlApprovalRepository",
    "SqlAttributionRepository",
    "SqlDetectionRepository",
    "SqlEventLog",
    "SqlIncidentRepository",
    "SqlRunRepository",
    "SqlTagRepository",
    "SqlVersionRepository",
]
