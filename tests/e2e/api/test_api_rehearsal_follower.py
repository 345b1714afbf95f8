"""Rehearsals measure the same path as a real rollback (issue 14, part 3): with
`rehearsal_follower = true`, a serving client following the `rehearsal` tag (the client
library's TagFollower, over HTTP) must switch for the drill to count, and a drill nobody
followed within the budget makes the model due again: the indirection may be broken."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from api_harness import Api
from playbook_client import TagFollower
from testkit.waiting import until

from core import queries
from core.commands import Rehearse
from core.plays.rehearse import rehearse


def _production_history(api: Api) -> tuple[dict[str, Any], dict[str, Any]]:
    ci = api.call("ci")
    v1 = api.register("chat", "x" * 40)
    assert ci.post("/v1/models/chat/promote", json={"version": v1["id"]}).status_code == 200
    v2 = api.register("chat", "x" * 60, v1["short"])
    assert ci.post("/v1/models/chat/promote", json={"version": v2["id"]}).status_code == 200
    return v1, v2


def test_a_rehearsal_counts_until_its_follower_switched(api: Api) -> None:
    v1, v2 = _production_history(api)
    with TagFollower(api.url, api.tokens["serving"], "chat", "rehearsal",
                     poll_s=0.05) as follower:
        assert follower.wait_ready(30)
        for _ in range(2):  # the second drill moves `rehearsal` off v1 and back within ms
            result = rehearse(Rehearse.parse(model="chat", actor="ops"), api.app.ctx)
            assert result.target.id == v1["id"] and result.follower

            def switched() -> Any:
                with api.app.ctx.uow(read_only=True) as u:
                    found = u.incidents.get(result.incident.id)  # noqa: B023 (waited here)
                return found if found and found.serving_switched_at else None
            incident = until(switched, "the rehearsal follower to switch and say so")
        assert follower.version() == v1["id"] and follower.switches >= 2
    assert incident.rolled_back_at <= incident.serving_switched_at
    status = queries.rehearsal(api.app.ctx, "chat", None)
    assert not status.due and not status.over_budget, status.why
    assert status.last is not None and status.last.id == incident.id
    assert v2["id"] == incident.bad_version  # production untouched: still v2


def test_a_rehearsal_nobody_followed_makes_the_model_due_again(api: Api) -> None:
    _production_history(api)
    result = rehearse(Rehearse.parse(model="chat", actor="ops"), api.app.ctx)
    assert result.awaiting_follower
    status = queries.rehearsal(api.app.ctx, "chat", None)
    assert not status.due  # within the budget: still waiting
    api.clock.advance(timedelta(seconds=301))  # past max_time_to_rollback_s (300)
    status = queries.rehearsal(api.app.ctx, "chat", None)
    assert status.due and status.over_budget
    assert "never followed the rehearsal tag" in status.why
