"""Play 2 step 2 over HTTP: a canary slice in the route answer, compared against production
on seeded attributions, refusing its promotion when clearly worse unless overridden."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from api_harness import Api, error

from bot.api.schemas import CanaryOut, PromoteOut, RouteOut
from bot.cli.main import main

N = 60  # per arm; the tests' minimum sample is 50


def seed(api: Api, version: str, prefix: str, *, errors: int, latency: float = 100.0,
         feedback: float = 0.8, n: int = N) -> None:
    records = [{"request_id": f"{prefix}{i}", "model": api_model(version),
                "version": version, "error": i < errors, "latency_ms": latency + i % 10,
                "feedback": feedback + (i % 5) / 100} for i in range(n)]
    stored = api.call("serving").post("/v1/attributions", json=records)
    assert stored.json()["stored"] == n, stored.text


def api_model(version: str) -> str:
    return version.partition("@")[0]


def canary_of(api: Api, model: str) -> CanaryOut:
    return CanaryOut.model_validate(api.call("auditor").get(f"/v1/models/{model}/canary")
                                    .json())


def start(api: Api, model: str, version: str, share: float) -> dict[str, Any]:
    answer = api.call("ci").post(f"/v1/models/{model}/promote",
                                 json={"version": version, "canary_fraction": share})
    assert answer.status_code == 202, answer.text
    data: dict[str, Any] = answer.json()
    return data


def test_a_canary_no_worse_than_production_promotes(api: Api) -> None:
    v1 = api.register("chat", "x" * 40)
    api.call("ci").post("/v1/models/chat/promote", json={"version": v1["id"]})
    v2 = api.register("chat", "x" * 60, v1["short"])
    error(api.call("auditor").get("/v1/models/chat/canary"), 404)

    started = PromoteOut.model_validate(start(api, "chat", v2["short"], 0.05))
    assert started.canary is not None and started.canary.fraction == 0.05
    assert started.event is not None and started.event.tag == "canary"
    assert started.request is None  # low stakes: nobody has to approve
    route = RouteOut.model_validate(api.call("serving").get("/v1/models/chat/route").json())
    assert route.production is not None and route.production.version == v1["id"]
    assert route.canary is not None and route.canary.version == v2["id"]
    assert route.canary_fraction == 0.05

    seen = canary_of(api, "chat")
    assert seen.active and seen.comparison is not None
    assert seen.comparison.verdict == "insufficient"
    seed(api, v1["short"], "p", errors=1)
    seed(api, v2["short"], "c", errors=1, latency=95.0)
    seen = canary_of(api, "chat")
    assert seen.comparison is not None and seen.comparison.verdict == "ok"
    assert seen.comparison.canary.n == N and seen.comparison.production.n == N
    assert {c.signal for c in seen.comparison.checks} == {
        "error_rate", "latency_p95", "feedback_mean"}

    moved = api.call("ci").post("/v1/models/chat/promote", json={"version": v2["short"]})
    assert moved.status_code == 200 and moved.json()["overridden"] is False
    after = api.call("serving").get("/v1/models/chat/route").json()
    assert after["production"]["version"] == v2["id"] and after["canary"] is None
    assert canary_of(api, "chat").active is False
    error(api.call("ci").post("/v1/models/chat/promote",
                              json={"version": v2["short"], "canary_fraction": 1.5}), 422)


def test_a_clearly_worse_canary_is_refused_unless_overridden(api: Api) -> None:
    v1 = api.register("chat", "x" * 40)
    api.call("ci").post("/v1/models/chat/promote", json={"version": v1["id"]})
    v2 = api.register("chat", "x" * 60, v1["short"])
    start(api, "chat", v2["short"], 0.1)
    seed(api, v1["short"], "p", errors=1)
    seed(api, v2["short"], "c", errors=15, latency=180.0, feedback=0.5)

    seen = canary_of(api, "chat")
    assert seen.comparison is not None and seen.comparison.verdict == "worse"
    worse = {c.signal for c in seen.comparison.checks if c.worse}
    assert worse == {"error_rate", "latency_p95", "feedback_mean"}

    gate = api.call("ci").get("/v1/gate", params={"model": "chat", "version": v2["short"]})
    assert gate.status_code == 200 and gate.json()["allowed"] is False  # CI hears it too
    assert "canary is clearly worse" in gate.json()["reasons"][0]
    refused = error(api.call("ci").post("/v1/models/chat/promote",
                                        json={"version": v2["short"]}), 409, "REFUSED")
    assert "clearly worse" in refused["message"] and "override" in refused["hint"]
    assert api.call("serving").get("/v1/models/chat/tags/production").json()["version"] == \
        v1["id"]
    forced = api.call("ci").post("/v1/models/chat/promote", json={
        "version": v2["short"], "override_reason": "the old model is being retired today"})
    assert forced.status_code == 200 and forced.json()["overridden"] is True
    with api.app.ctx.uow() as uow:  # the check is a step of each promote run
        forced_run, refused_run = uow.runs.list(play="promote", limit=2)  # newest first
        overrides = [d.event for d in uow.outbox.list(states=("pending", "done", "skipped"))
                     if d.name == "CanaryOverridden"]
    assert refused_run.status == "failed"
    assert refused_run.steps[-1].name == "compare canary with production"
    step = next(s for s in forced_run.steps if s.name == "compare canary with production")
    assert step.output["override_reason"] == "the old model is being retired today"
    assert forced_run.status == "succeeded"
    assert api.app.ctx.clock is not None and overrides == []  # no subscriber yet: no delivery
    with api.app.ctx.uow() as uow:
        assert uow.outbox.counts() != {}


def test_high_stakes_canary_and_its_approval(api: Api, capsys: pytest.CaptureFixture[str]
                                             ) -> None:
    r1 = api.register("risky", "z" * 30)
    first = api.call("ci").post("/v1/models/risky/promote", json={"version": r1["id"]})
    api.call("ben").post(f"/v1/approvals/{first.json()['request']['id']}/approve")
    r2 = api.register("risky", "z" * 50, r1["short"])

    code = main(["--server", api.url, "--token", api.tokens["ci"], "promote", "risky",
                 r2["short"], "--canary", "5%", "--reason", "bigger prompt"])
    text = capsys.readouterr().out
    assert code == 0 and "canary -> risky@" in text and "approval requested" in text
    assert api.call("serving").get("/v1/models/risky/route").json()["canary_fraction"] == 0.05
    with api.app.ctx.uow() as uow:
        pending = uow.approvals.pending("risky")
    assert len(pending) == 1 and pending[0].version_id == r2["id"]
    approve = f"/v1/approvals/{pending[0].id}/approve"

    seed(api, r1["short"], "p", errors=0)
    seed(api, r2["short"], "c", errors=12)
    code = main(["--server", api.url, "--token", api.tokens["auditor"], "canary", "risky"])
    text = capsys.readouterr().out
    assert code == 0 and "CLEARLY WORSE" in text and "error rate" in text
    error(api.call("ben").post(approve), 409, "REFUSED")
    done = api.call("ben").post(approve, json={"override_reason": "known flaky upstream"})
    assert done.status_code == 200 and done.json()["status"] == "approved"
    assert done.json()["overridden"] is True


def test_ending_a_canary_takes_it_out_of_the_route(api: Api,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    v1 = api.register("chat", "x" * 40)
    api.call("ci").post("/v1/models/chat/promote", json={"version": v1["id"]})
    v2 = api.register("chat", "x" * 60, v1["short"])
    start(api, "chat", v2["short"], 0.2)
    etag = api.call("serving").get("/v1/models/chat/route").headers["etag"]
    code = main(["--server", api.url, "--token", api.tokens["ci"], "--json", "canary", "chat",
                 "--stop"])
    ended = json.loads(capsys.readouterr().out)
    assert code == 0 and ended["active"] is False and ended["ended_at"]
    route = api.call("serving").get("/v1/models/chat/route", headers={"If-None-Match": etag})
    assert route.status_code == 200 and route.json()["canary"] is None
    error(api.call("ci").delete("/v1/models/chat/canary"), 404)
    assert httpx.get(api.url + "/metrics").text.count('tag="canary",play="canary"} 1') == 1
