"""Play 1 from CI, reading versions, the deploy gate, and the access rules every route shares."""

from __future__ import annotations

import httpx
from api_harness import Api, error

from bot.api.schemas import GateOut, RegisteredOut, VersionOut

CHAT = "/v1/models/chat/versions"


def test_register_is_201_then_200_for_the_same_content(api: Api) -> None:
    body = {"components": {"prompt": "x" * 40, "config": {"temperature": 0.2}},
            "owner": "ana", "reason": "first", "root": True}
    first = api.call("ci").post(CHAT, json=body)
    assert first.status_code == 201, first.text
    created = RegisteredOut.model_validate(first.json())
    assert created.created and created.scores == {"score": 0.4}
    assert created.eval_source == "evaluator: prompt-length"
    again = api.call("ci").post(CHAT, json=body | {"reason": "again"})
    assert again.status_code == 200 and again.json()["id"] == created.id
    assert again.json()["created"] is False

    child = api.register("chat", "y" * 60, created.short, scores={"score": 0.7})
    assert child["parent"] == created.id and child["eval_source"] == "supplied"
    with api.app.ctx.uow() as uow:
        runs = uow.runs.list(play="register")
    assert {r.actor for r in runs} == {"ci"}  # the token's name is the actor

    shown = api.call("serving").get(f"{CHAT}/{child['id'][:10]}")
    assert shown.status_code == 200
    assert VersionOut.model_validate(shown.json()).id == child["id"]
    error(api.call("serving").get(f"{CHAT}/deadbeefdead"), 404, "RESOURCE_DOES_NOT_EXIST")
    error(api.call("serving").get(f"{CHAT}/risky@{child['id'][:10]}"), 422, "INVALID_INPUT")


def test_the_gate_says_whether_a_version_may_be_deployed(api: Api) -> None:
    gate = api.call("ci")
    unregistered = gate.get("/v1/gate", params={"model": "chat", "version": "chat@deadbeef"})
    answer = GateOut.model_validate(unregistered.json())
    assert unregistered.status_code == 200
    assert not answer.registered and not answer.allowed
    assert "not registered" in answer.reasons[0]

    good = api.register("chat", "x" * 40)
    assert gate.get("/v1/gate", params={"model": "chat", "version": good["id"]}).json()[
        "allowed"] is True
    api.call("ci").post("/v1/models/chat/promote", json={"version": good["id"]})
    now = gate.get("/v1/gate", params={"model": "chat", "version": good["short"]}).json()
    assert now["allowed"] and now["tags"] == ["production"]
    worse = api.register("chat", "x" * 20, good["short"])
    said = gate.get("/v1/gate", params={"model": "chat", "version": worse["short"]}).json()
    assert said["registered"] and not said["allowed"]
    assert "below production" in said["reasons"][0]
    low = api.register("chat", "x" * 5, good["short"])  # 0.05 < min_score 0.1
    assert "min_score" in gate.get("/v1/gate", params={
        "model": "chat", "version": low["short"]}).json()["reasons"][0]
    assert api.call("serving").get("/v1/gate", params={
        "model": "chat", "version": good["short"]}).status_code == 200
    error(gate.get("/v1/gate", params={"model": "chat"}), 422, "INVALID_INPUT")


def test_tokens_and_scopes(api: Api) -> None:
    body = {"components": {"prompt": "p"}, "owner": "a", "reason": "r", "root": True}
    detail = error(api.call().post(CHAT, json=body), 401, "UNAUTHENTICATED")
    assert "Bearer" in detail["hint"]
    forged = httpx.post(api.url + CHAT, json=body, headers={"Authorization": "Bearer pbt_nope"})
    error(forged, 401, "UNAUTHENTICATED")
    assert forged.headers["www-authenticate"] == "Bearer"
    error(httpx.post(api.url + CHAT, json=body, headers={"Authorization": "Basic abc"}), 401)
    denied = error(api.call("serving").post(CHAT, json=body), 403, "FORBIDDEN")
    assert "register" in denied["message"]
    error(api.call("auditor").get("/v1/models/chat/tags/production"), 403, "FORBIDDEN")
    error(api.call("ci").post("/v1/attributions", json=[]), 403, "FORBIDDEN")
    assert api.call("root").post(CHAT, json=body).status_code == 201  # admin implies all


def test_bad_requests_are_json_errors_naming_what_to_fix(api: Api) -> None:
    ci = api.call("ci")
    missing = error(ci.post(CHAT, json={"components": {"prompt": "p"}, "reason": "r",
                                        "root": True}), 422, "INVALID_INPUT")
    assert missing["field"] == "owner" and "owner" in missing["message"]
    nested = error(ci.post(CHAT, json={"components": {"weights": {"ref": "w", "sha256": "zz"}},
                                       "owner": "a", "reason": "r", "root": True}), 422)
    assert nested["field"] == "components.weights.sha256"
    nothing = error(ci.post(CHAT, json={"components": {}, "owner": "a", "reason": "r",
                                        "root": True}), 422)
    assert "at least one of" in nothing["message"]
    no_parent = error(ci.post(CHAT, json={"components": {"prompt": "p"}, "owner": "a",
                                          "reason": "r"}), 422)
    assert no_parent["field"] == "parent" and no_parent["step"] == "check lineage"
    error(ci.post(CHAT, content=b"{not json", headers={"Content-Type": "application/json"}),
          422, "INVALID_INPUT")
    undeclared = error(ci.post("/v1/models/nope/versions", json={
        "components": {"prompt": "p"}, "owner": "a", "reason": "r", "root": True}), 404,
        "CONFIG_INVALID")
    assert "not declared" in undeclared["message"] and undeclared["hint"]
    error(ci.post("/v1/models/broken/versions", json={
        "components": {"prompt": "p"}, "owner": "a", "reason": "r", "root": True}), 502,
        "EVALUATOR_FAILED")
    big = {"components": {"prompt": "x" * 300_000}, "owner": "a", "reason": "r", "root": True}
    error(ci.post(CHAT, json=big), 413, "PAYLOAD_TOO_LARGE")

    def chunks() -> object:
        yield b'{"components": {"prompt": "'
        for _ in range(300):
            yield b"x" * 1024
        yield b'"}}'

    error(ci.post(CHAT, content=chunks(),  # type: ignore[arg-type]
                  headers={"Content-Type": "application/json"}), 413, "PAYLOAD_TOO_LARGE")
    error(ci.get("/v1/no/such/route"), 404, "RESOURCE_DOES_NOT_EXIST")


def test_openapi_documents_every_route_with_its_schemas(api: Api) -> None:
    spec = httpx.get(api.url + "/openapi.json").json()
    paths = spec["paths"]
    assert set(paths) >= {
        "/v1/models/{model}/versions", "/v1/models/{model}/versions/{version}",
        "/v1/models/{model}/tags/{tag}", "/v1/models/{model}/route", "/v1/gate",
        "/v1/attributions", "/v1/audit/{request_id}", "/v1/models/{model}/at",
        "/v1/models/{model}/promote", "/v1/models/{model}/rollback",
        "/v1/approvals/{request_id}/approve", "/v1/approvals/{request_id}/reject",
        "/v1/models/{model}/canary", "/healthz", "/livez", "/readyz", "/metrics"}
    register = paths["/v1/models/{model}/versions"]["post"]
    assert {"200", "201", "401", "403", "413", "422"} <= set(register["responses"])
    assert "RegisterBody" in str(register["requestBody"])
    batch = paths["/v1/attributions"]["post"]["requestBody"]["content"]
    assert set(batch) == {"application/json", "application/x-ndjson"}
    assert "bearer" in str(spec["components"]["securitySchemes"]).lower()
    assert httpx.get(api.url + "/docs").status_code == 200
