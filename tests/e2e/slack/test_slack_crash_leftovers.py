"""What a process killed midway leaves, and how the scheduler's sweep closes it: `playbook
rollback` is killed with -9 while its confirming eval runs. The tag had moved and the incident
was open (one transaction), but nobody would ever confirm it, and the run was never recorded.
Now the run is on record from its start, and the sweep confirms the incident late and marks
the run abandoned once no play could still be running."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

from serve_process import ROOT
from slack_harness import GATE, write_workspace
from testkit.clock import TestClock
from testkit.waiting import until

from bot import bootstrap
from bot.scheduler.service import Scheduler
from bot.settings import Settings
from core.commands import Promote, Register
from core.domain import RunStatus
from core.plays import promote, register


def _settings(config: Path, home: Path) -> Settings:
    return Settings(migrate=True, config_path=config, home=home,
                    database_url=f"sqlite:///{home / 'playbook.db'}", actor="UANA")


def test_a_rollback_killed_during_its_confirming_eval_is_confirmed_by_the_sweep(
        tmp_path: Path) -> None:
    config, home = write_workspace(tmp_path), tmp_path / "home"
    app = bootstrap.build(_settings(config, home))
    try:
        parent = None
        for n in (40, 60):  # two promoted versions of `slow`, whose evals wait for GATE
            v = register(Register.parse(
                model="slow", components={"prompt": "x" * n}, owner="UANA", reason="r",
                parent=parent, root=parent is None, scores={"score": n / 100},
                actor="UANA"), app.ctx).version
            promote(Promote.parse(model="slow", version=v.short, actor="UANA"), app.ctx)
            parent = v.short
    finally:
        app.close()

    cli = subprocess.Popen(
        [sys.executable, "-m", "bot.cli.main", "--config", str(config), "--home", str(home),
         "--as", "UONCALL", "rollback", "slow", "--symptom", "answers are empty"],
        env={**os.environ, "PYTHONPATH": ROOT}, cwd=tmp_path,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    app = bootstrap.build(_settings(config, home))
    try:
        def opened() -> bool:
            with app.ctx.uow() as uow:
                return bool(uow.incidents.list("slow"))

        until(opened, "the rollback to move the tag and open its incident")
        cli.send_signal(signal.SIGKILL)  # in its confirming eval, which waits for GATE
        cli.wait()
        with app.ctx.uow() as uow:
            (incident,) = uow.incidents.list("slow")
            (run,) = uow.runs.list(play="rollback")
        assert incident.confirmation is None
        assert run.status == RunStatus.RUNNING and run.actor == "UONCALL"
        (tmp_path / GATE).touch()  # the eval suite answers from now on
    finally:
        app.close()

    clock = TestClock(incident.rolled_back_at + timedelta(minutes=1))
    app = bootstrap.build(_settings(config, home), clock=clock)
    try:
        jobs = Scheduler(app, owner="survivor")
        jobs.fire("sweep", clock.now())  # within the eval's deadline: it may still report
        with app.ctx.uow() as uow:
            assert uow.incidents.get(incident.id).confirmation is None  # type: ignore[union-attr]

        clock.advance(minutes=15)  # past the evaluator's 600 s deadline and the grace
        out = jobs.fire("sweep", clock.now())
        assert out is not None and "1 incidents confirmed late" in out
        with app.ctx.uow() as uow:
            confirmed = uow.incidents.get(incident.id)
            events = [e for _, e in uow.outbox.events(model="slow", name="IncidentConfirmed")]
            still = uow.runs.get(run.id)
        assert confirmed is not None and confirmed.confirmation == "passed"
        assert confirmed.confirm_scores == {"score": 0.4}
        assert [e.incident_id for e in events] == [incident.id]  # told once, as usual
        assert still is not None and still.status == RunStatus.RUNNING  # not yet: 2 h

        clock.advance(hours=2)
        out = jobs.fire("sweep", clock.now())
        assert out is not None and "1 abandoned runs closed" in out
        assert "0 incidents confirmed late" in out  # confirmed once, never again
        with app.ctx.uow() as uow:
            closed = uow.runs.get(run.id)
        assert closed is not None and closed.status == RunStatus.FAILED
        assert str(closed.error).startswith("abandoned")
    finally:
        app.close()
