"""The fake canary repository (storage/repositories/api.py has the SQL one): one slice per
model in the fake registry's state; outcomes counted from its attributions."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from fake_state import FakeRepo, State

from core import ports
from core.canary import ArmSample, CanaryState
from core.errors import NotFound


class FakeCanaryRepository(FakeRepo, ports.CanaryRepository):
    def get(self, model: str) -> CanaryState | None:
        return self._s.canaries.get(model)

    def put(self, state: CanaryState) -> None:
        def op(s: State) -> None:
            if (state.model, state.version_id) not in s.versions:
                raise NotFound(f"no version {state.model}@{state.version_id[:12]} is "
                               "registered")
            s.canaries[state.model] = state

        self._write("canaries.put", op)

    def end(self, model: str, at: datetime) -> CanaryState:
        running = self._s.canaries.get(model)
        if running is None or running.ended_at is not None:
            raise NotFound(f"{model} has no running canary")
        ended = replace(running, ended_at=at)

        def op(s: State) -> None:
            s.canaries[model] = ended

        self._write("canaries.end", op)
        return ended

    def outcomes(self, model: str, version_id: str, since: datetime) -> ArmSample:
        found = [a for a in self._s.attributions.values()
                 if a.model == model and a.version_id == version_id and a.served_at >= since]
        known = [a for a in found if a.error is not None]
        return ArmSample(version_id=version_id, n=len(found),
                         errors=sum(1 for a in known if a.error), error_known=len(known),
                         latencies=tuple(a.latency_ms for a in found
                                         if a.latency_ms is not None),
                         feedback=tuple(a.feedback for a in found if a.feedback is not None))
