"""Bad input is the caller's error, never an outage: a 422 that names what was wrong, on
SQLite and PostgreSQL alike, and nothing changed. (A 503 tells clients to retry, which the
remote CLI does five times.)"""

from __future__ import annotations

from api_harness import Api, error


def test_a_nul_character_anywhere_is_the_callers_error_not_an_outage(api: Api) -> None:
    v1 = api.register("chat", "x" * 40)
    ci = api.call("ci")
    before = ci.get("/v1/models/chat/versions/" + v1["short"]).json()
    for answer in (
        ci.get("/v1/models/chat/versions/chat@%00abc1234"),
        api.call("serving").get("/v1/models/chat/tags/prod%00uction"),
        ci.post("/v1/models/chat/versions", json={
            "components": {"prompt": "a\u0000b"}, "owner": "ana", "reason": "r", "root": True}),
        ci.post("/v1/models/chat/promote", json={"version": v1["id"], "reason": "x\u0000"}),
        api.call("serving").post("/v1/attributions", json={"records": [
            {"request_id": "r\u00001", "model": "chat", "version": v1["id"]}]}),
    ):
        error(answer, 422, "INVALID_INPUT")
    assert ci.get("/v1/models/chat/versions/" + v1["short"]).json() == before
    error(api.call("serving").get("/v1/models/chat/tags/production"), 404)  # none moved


def test_a_time_out_of_range_is_the_callers_error(api: Api) -> None:
    audit = api.call("auditor")
    for when in ("0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-01:00",
                 "99999-01-01T00:00:00Z", "2026-13-01T00:00:00Z"):
        detail = error(audit.get("/v1/models/chat/at", params={"time": when}), 422,
                       "INVALID_INPUT")
        assert "out of range" in detail["message"] or detail["message"].startswith("time"), \
            detail


def test_deeply_nested_json_is_refused_cleanly(api: Api) -> None:
    body = "[" * 100_000 + "]" * 100_000
    answer = api.call("serving").post("/v1/attributions", content=body,
                                      headers={"content-type": "application/json"})
    error(answer, 422, "INVALID_INPUT")


def test_authentication_comes_before_the_body_is_parsed(api: Api) -> None:
    nobody = api.call(None)
    answer = nobody.post("/v1/models/chat/versions", content=b"{not json",
                         headers={"content-type": "application/json"})
    error(answer, 401)
    answer = nobody.post("/v1/attributions", content=b"[" * 5000,
                         headers={"content-type": "application/json"})
    error(answer, 401)
