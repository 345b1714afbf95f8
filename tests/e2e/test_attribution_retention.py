"""`[schedule] attribution_retention_days`: the scheduler's hourly job keeps attribution
partitions made ahead and deletes what is past retention (whole weeks on PostgreSQL, rows on
SQLite); audits of what remains still answer, and a record already past retention is refused
at the door rather than stored and dropped."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from testkit.clock import TestClock

from bot import bootstrap
from bot.scheduler.service import Scheduler
from bot.settings import Settings
from core.commands import Register
from core.errors import InvalidInput
from core.plays import register
from core.plays.attribute import attribute
from storage import partitions

START = datetime(2027, 3, 3, 12, 0, tzinfo=UTC)  # a Wednesday
CONFIG = """
[models.chat]
metric = "score"

[schedule]
attribution_retention_days = 30
"""


@pytest.mark.parametrize("db", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def test_the_hourly_job_applies_retention(db: str, tmp_path: Path,
                                          request: pytest.FixtureRequest) -> None:
    url = f"sqlite:///{tmp_path / 'p.db'}" if db == "sqlite" \
        else request.getfixturevalue("postgres_url")
    (tmp_path / "playbook.toml").write_text(CONFIG)
    clock = TestClock(START)
    app = bootstrap.build(Settings(migrate=True, config_path=tmp_path / "playbook.toml",
                                   home=tmp_path / "home", database_url=url, actor="UANA"),
                          clock=clock)
    try:
        v = register(Register.parse(model="chat", components={"prompt": "p"}, owner="UANA",
                                    reason="r", root=True, scores={"score": 0.9},
                                    actor="UANA"), app.ctx).version

        def send(rid: str, at: datetime) -> None:
            attribute([{"request_id": rid, "model": "chat", "version": v.id,
                        "served_at": at.isoformat()}], app.ctx)

        for day in range(0, 29, 7):  # a record a week, from 28 days ago to today
            send(f"r-{day}", START - timedelta(days=day))
        jobs = Scheduler(app, owner="test")

        def kept() -> set[str]:
            with app.ctx.uow(read_only=True) as u:
                return {rid for rid in (f"r-{d}" for d in range(0, 29, 7))
                        if u.attributions.get(rid) is not None}

        assert jobs.keep_attributions().rows == 0  # only empty weeks go, if any
        assert len(kept()) == 5  # all within retention

        clock.advance(days=14)
        retired = jobs.keep_attributions()
        if db == "sqlite":  # rows served more than 30 days before now go, exactly
            assert retired.rows == 2 and kept() == {"r-0", "r-7", "r-14"}
        else:  # whole weeks go once all they hold is past retention
            assert retired.partitions and kept() >= {"r-0", "r-7", "r-14"}
            assert "r-28" not in kept()
            with app.engine.begin() as conn:
                parts = partitions.partitions(conn)
            assert parts[0].start is not None and parts[0].end > clock.now() - timedelta(30)
            assert parts[-1].end > clock.now() + partitions.AHEAD  # made ahead from now

        with pytest.raises(InvalidInput, match="older than attribution_retention_days"):
            send("late", clock.now() - timedelta(days=31))
    finally:
        app.close()
