"""Running totals kept in the transaction that changes what they count, so /metrics reads a
handful of rows whatever the size of the history (storage/repositories/counters.py).

Imported by storage/orm.py so Base.metadata and the migrations see it.
"""

from __future__ import annotations

from sqlalchemy.orm import Mapped, mapped_column

from storage.orm import Base


class CounterRow(Base):
    __tablename__ = "registry_counters"

    name: Mapped[str] = mapped_column(primary_key=True)  # what is counted
    labels: Mapped[str] = mapped_column(primary_key=True)  # JSON array of the label values
    value: Mapped[float]
