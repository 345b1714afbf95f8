"""Which Playbook release migrated the schema to each revision, so that an older Playbook
facing a newer schema can say which release it needs instead of only a revision id.

Imported by storage/orm.py so Base.metadata and the migrations see it.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Mapped, mapped_column

from storage.orm import Base


class SchemaReleaseRow(Base):
    __tablename__ = "schema_releases"

    revision: Mapped[str] = mapped_column(primary_key=True)
    release: Mapped[str]  # the playbook-bot version that migrated to this revision first
    migrated_at: Mapped[datetime]
