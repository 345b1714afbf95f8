"""The play engine: a play is a named sequence of steps, and every run of one is recorded.

A play function opens a run with `ctx.run(...)` and wraps each step in `run.step(name)`. A run
is recorded as `running` when it starts (so a process that dies midway leaves a trace, which
the scheduler's sweep closes), and its steps (status, output, times) and result are saved in
their own transaction when the play ends, whether it succeeded or not, so `playbook runs
RUN_ID` can explain it afterwards. Read-only plays (audit) record only their end.
State changes happen inside steps through a unit of work and commit together with their events;
a step that fails rolls its transaction back, so no tag is ever half-moved.
"""

from __future__ import annotations

import logging
import secrets
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from core.config import ModelPolicy, PlaybookConfig
from core.domain import PlayRun, RunStatus, StepRecord, StepStatus
from core.effects import REQUEST_ID
from core.errors import PlaybookError
from core.ports import (
    ApproverDirectory,
    ArtifactStore,
    Clock,
    Evaluator,
    EvaluatorFactory,
    UnitOfWorkFactory,
)

log = logging.getLogger("playbook.plays")


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class ConfigApprovers:
    """Approvers as listed in playbook.toml; groups need Slack to resolve."""

    def may_approve(self, policy: ModelPolicy, user: str) -> tuple[bool, str]:
        if user in policy.approvers:
            return True, ""
        if policy.approver_group and not policy.approvers:
            return False, (f"{policy.name} approvals go through Slack group "
                           f"{policy.approver_group}; approve from Slack, or list {user} "
                           "in approvers")
        listed = ", ".join(policy.approvers) or "nobody"
        return False, f"{user} is not an approver of {policy.name} (approvers: {listed})"


def new_id(prefix: str) -> str:
    """`prefix-` and 32 hex digits: the time in milliseconds (48 bits, so ids sort by when
    they were made) and 80 random bits (like a UUIDv7: a collision needs ~10^12 ids in the
    same millisecond). Ids made earlier (10 hex digits) stay valid as input."""
    return f"{prefix}-{time.time_ns() // 1_000_000:012x}{secrets.randbits(80):020x}"


@dataclass
class PlayContext:
    """Everything a play may touch. Built once by the composition root."""

    config: PlaybookConfig
    uow: UnitOfWorkFactory
    evaluator_for: EvaluatorFactory
    artifacts: ArtifactStore
    clock: Clock = field(default_factory=SystemClock)
    approvers: ApproverDirectory = field(default_factory=ConfigApprovers)
    make_id: Callable[[str], str] = new_id

    def evaluator(self, policy: ModelPolicy) -> Evaluator | None:
        return self.evaluator_for(policy)

    @contextmanager
    def run(self, play: str, actor: str, inputs: dict[str, Any], *,
            record_start: bool = True) -> Iterator[RunRecorder]:
        recorder = RunRecorder(self, PlayRun(
            id=self.make_id("run"), play=play, actor=actor, inputs=inputs,
            started_at=self.clock.now(), status=RunStatus.RUNNING,
            request_id=REQUEST_ID.get()))
        if record_start:
            with self.uow() as uow:
                uow.runs.add(recorder.run)
                uow.commit()
            recorder.recorded = True
        try:
            yield recorder
        except BaseException as exc:
            recorder.run.status = RunStatus.FAILED
            recorder.run.error = exc.one_line() if isinstance(exc, PlaybookError) else repr(exc)
            recorder.finish()
            raise
        recorder.finish()


class RunRecorder:
    def __init__(self, ctx: PlayContext, run: PlayRun) -> None:
        self.ctx = ctx
        self.run = run
        self.recorded = False  # stored at its start: finishing updates it

    @property
    def id(self) -> str:
        return self.run.id

    @contextmanager
    def step(self, name: str) -> Iterator[dict[str, Any]]:
        """Record one step; a PlaybookError raised inside is tagged with the step's name."""
        started = self.ctx.clock.now()
        output: dict[str, Any] = {}
        try:
            yield output
        except BaseException as exc:
            if isinstance(exc, PlaybookError) and exc.step is None:
                exc.step = name
            message = str(exc) if isinstance(exc, PlaybookError) else repr(exc)
            self.run.steps.append(StepRecord(name, StepStatus.FAILED, started,
                                             self.ctx.clock.now(), output, message))
            raise
        self.run.steps.append(StepRecord(name, StepStatus.OK, started, self.ctx.clock.now(),
                                         output))

    def skip(self, name: str, why: str) -> None:
        now = self.ctx.clock.now()
        self.run.steps.append(StepRecord(name, StepStatus.SKIPPED, now, now, {"why": why}))

    def record(self, name: str, started: datetime, output: dict[str, Any],
               error: str | None = None) -> None:
        """A step whose failure must not fail the play (a post-rollback confirmation)."""
        status = StepStatus.FAILED if error else StepStatus.OK
        self.run.steps.append(StepRecord(name, status, started, self.ctx.clock.now(), output,
                                         error))

    def finish(self) -> None:
        self.run.ended_at = self.ctx.clock.now()
        if self.run.status == RunStatus.RUNNING:
            self.run.status = RunStatus.SUCCEEDED
        with self.ctx.uow() as uow:
            if self.recorded:
                uow.runs.save(self.run)
            else:
                uow.runs.add(self.run)
            uow.commit()
        log.info("%s run %s by %s: %s%s", self.run.play, self.run.id, self.run.actor,
                 self.run.status, f" ({self.run.error})" if self.run.error else "")
