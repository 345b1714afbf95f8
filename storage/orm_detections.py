"""Incidents monitoring opened (core.domain.Detection): one row per detection, every field of
the dataclass a column of the same name.

Imported by storage/orm.py so Base.metadata and the migrations see it.
"""

from __future__ import annotations

from dataclasses import fields as dataclass_fields
from datetime import datetime
from typing import Any

from sqlalchemy import Index, Integer, Text
from sqlalchemy.orm import Mapped, mapped_column

from core.domain import Detection
from storage.orm import Base


class DetectionRow(Base):
    """Incidents monitoring opened (core.domain.Detection); no foreign key to versions, as
    an alert may name a model with nothing in production yet."""

    __tablename__ = "detections"

    id: Mapped[str] = mapped_column(primary_key=True)
    model: Mapped[str]
    fingerprint: Mapped[str]
    source: Mapped[str]
    name: Mapped[str] = mapped_column(Text)
    summary: Mapped[str] = mapped_column(Text)
    url: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str]
    state: Mapped[str]
    started_at: Mapped[datetime]
    received_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    suspect_version: Mapped[str | None]
    fired: Mapped[int] = mapped_column(Integer)
    flaps: Mapped[int] = mapped_column(Integer)
    resolved_at: Mapped[datetime | None]
    decided_by: Mapped[str | None]
    decided_at: Mapped[datetime | None]
    incident_id: Mapped[str | None]
    verdict: Mapped[str] = mapped_column(Text)

    __table_args__ = (
        Index("ix_detections_model_fingerprint_received_at", "model", "fingerprint",
              "received_at"),
        Index("ix_detections_model_received_at", "model", "received_at"),
    )

    @staticmethod
    def values(d: Detection) -> dict[str, Any]:
        return {f: getattr(d, f) for f in DETECTION_FIELDS}

    def to_domain(self) -> Detection:
        return Detection(**{f: getattr(self, f) for f in DETECTION_FIELDS})


DETECTION_FIELDS = tuple(f.name for f in dataclass_fields(Detection))
