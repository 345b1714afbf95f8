"""What serving code does: resolve tags with ETags, read the route, report attributions; and
what auditors and operators read back: audit bundles, production at a time, health, metrics."""

from __future__ import annotations

import json

import httpx
from api_harness import Api, error

from bot.api.schemas import AuditOut, ProductionAtOut, ResolvedOut, RouteOut
from core.commands import Promote
from core.plays import promote

PRODUCTION = "/v1/models/chat/tags/production"


def test_tag_resolution_answers_304_until_the_tag_moves(api: Api) -> None:
    serving = api.call("serving")
    error(serving.get(PRODUCTION), 404, "RESOURCE_DOES_NOT_EXIST")
    v1 = api.register("chat", "x" * 40)
    v2 = api.register("chat", "x" * 60, v1["short"])
    api.call("ci").post("/v1/models/chat/promote", json={"version": v1["id"]})

    first = serving.get(PRODUCTION)
    tag = ResolvedOut.model_validate(first.json())
    assert tag.version == v1["id"] and tag.revision == 1
    assert tag.components["prompt"] == "x" * 40
    etag = first.headers["etag"]
    assert first.headers["cache-control"] == "no-cache"
    same = serving.get(PRODUCTION, headers={"If-None-Match": etag})
    assert same.status_code == 304 and same.content == b"" and same.headers["etag"] == etag
    assert serving.get(PRODUCTION, headers={"If-None-Match": f'"x", W/{etag}'}).status_code \
        == 304
    assert serving.get(PRODUCTION, headers={"If-None-Match": '"stale"'}).status_code == 200

    api.call("ci").post("/v1/models/chat/promote", json={"version": v2["id"]})
    moved = serving.get(PRODUCTION, headers={"If-None-Match": etag})
    assert moved.status_code == 200 and moved.json()["version"] == v2["id"]
    assert moved.headers["etag"] != etag
    api.call("ci").post("/v1/models/chat/rollback", json={"symptom": "bad answers"})
    back = serving.get(PRODUCTION, headers={"If-None-Match": moved.headers["etag"]})
    assert back.status_code == 200 and back.json()["version"] == v1["id"]

    route = serving.get("/v1/models/chat/route")
    answer = RouteOut.model_validate(route.json())
    assert answer.production is not None and answer.production.version == v1["id"]
    assert answer.canary is None and answer.canary_fraction is None
    assert serving.get("/v1/models/chat/route",
                       headers={"If-None-Match": route.headers["etag"]}).status_code == 304
    error(serving.get("/v1/models/nope/route"), 404, "CONFIG_INVALID")
    error(serving.get("/v1/models/chat/tags/experiment/none"), 404)


def test_a_tag_moved_elsewhere_reaches_serving_within_the_cache_time(api: Api) -> None:
    """Moves through this server clear its answers at once; a move by the CLI, Slack or
    another replica shows within PLAYBOOK_API_RESOLVE_CACHE_S (0.3 s here)."""
    v1 = api.register("chat", "x" * 40)
    v2 = api.register("chat", "x" * 60, v1["short"])
    api.call("ci").post("/v1/models/chat/promote", json={"version": v1["id"]})
    serving = api.call("serving")
    assert serving.get(PRODUCTION).json()["version"] == v1["id"]
    promote(Promote.parse(model="chat", version=v2["id"], actor="cli"), api.app.ctx)
    assert serving.get(PRODUCTION).json()["version"] == v1["id"]  # cached, for now
    api.ticks.advance(0.31)
    assert serving.get(PRODUCTION).json()["version"] == v2["id"]
    assert serving.get("/v1/models/chat/route").json()["production"]["version"] == v2["id"]


def test_attribution_batches_are_all_or_nothing_and_idempotent(api: Api) -> None:
    v1 = api.register("chat", "x" * 40)
    serving = api.call("serving")
    batch = [{"request_id": f"r{i}", "model": "chat", "version": v1["short"],
              "latency_ms": 10 + i, "error": i == 3, "feedback": 1.0} for i in range(5)]
    stored = serving.post("/v1/attributions", json=batch)
    assert stored.json() == {"received": 5, "stored": 5, "duplicates": 0}
    again = serving.post("/v1/attributions", json=[
        *batch[3:], {"request_id": "r5", "model": "chat", "version": v1["id"]}])
    assert again.json() == {"received": 3, "stored": 1, "duplicates": 2}

    ndjson = "\n".join(json.dumps({"request_id": f"n{i}", "model": "chat",
                                   "version": v1["id"]}) for i in range(3)) + "\n\n"
    lines = serving.post("/v1/attributions", content=ndjson,
                         headers={"Content-Type": "application/x-ndjson"})
    assert lines.json()["stored"] == 3

    bad = [{"request_id": "b0", "model": "chat", "version": v1["id"]},
           {"request_id": "b1", "model": "chat", "version": v1["id"], "latency_ms": -1},
           {"request_id": "b2", "model": "chat", "version": "chat@00000000"}]
    detail = error(serving.post("/v1/attributions", json=bad), 422, "INVALID_INPUT")
    assert detail["field"] == "records[1].latency_ms"
    assert "nothing of this batch was stored" in detail["hint"]
    detail = error(serving.post("/v1/attributions", json=[bad[0], bad[2]]), 422)
    assert detail["field"] == "records[1]" and "no version" in detail["message"]
    error(serving.post("/v1/attributions", json=[bad[0], "nope"]), 422)
    error(serving.post("/v1/attributions", json={"request_id": "x"}), 422)
    broken = '{"request_id": "b0", "model": "chat", "version": "' + v1["id"] + '"}\n{oops\n'
    detail = error(serving.post("/v1/attributions", content=broken,
                                headers={"Content-Type": "application/x-ndjson"}), 422)
    assert detail["field"] == "records[1]"
    error(serving.post("/v1/attributions", content=b"r1,chat",
                       headers={"Content-Type": "text/csv"}), 415, "UNSUPPORTED_MEDIA_TYPE")
    error(api.call("auditor").get("/v1/audit/b0"), 404, "RESOURCE_DOES_NOT_EXIST")

    metrics = httpx.get(api.url + "/metrics").text
    assert 'playbook_attributions_total{outcome="stored"} 9' in metrics
    assert 'playbook_attributions_total{outcome="duplicates"} 2' in metrics


def test_audit_bundle_and_production_at_a_time(api: Api) -> None:
    v1 = api.register("chat", "x" * 40)
    v2 = api.register("chat", "x" * 60, v1["short"])
    ci = api.call("ci")
    ci.post("/v1/models/chat/promote", json={"version": v1["id"]})
    between = api.clock.now()
    api.clock.advance(minutes=5)
    ci.post("/v1/models/chat/promote", json={"version": v2["id"], "reason": "longer"})
    api.call("serving").post("/v1/attributions", json=[
        {"request_id": "req/42", "model": "chat", "version": v2["id"], "latency_ms": 7}])

    found = api.call("auditor").get("/v1/audit/req/42")
    bundle = AuditOut.model_validate(found.json())
    assert bundle.version.id == v2["id"] and bundle.attribution.latency_ms == 7
    assert [x.id for x in bundle.lineage] == [v2["id"], v1["id"]]
    assert bundle.lineage_depth == 1 and bundle.lineage_root.id == v1["id"]
    nearest = AuditOut.model_validate(
        api.call("auditor").get("/v1/audit/req/42", params={"lineage": "1"}).json())
    assert [x.id for x in nearest.lineage] == [v2["id"]] and nearest.lineage_truncated
    whole = api.call("auditor").get("/v1/audit/req/42", params={"lineage": "all"}).json()
    assert len(whole["lineage"]) == 2 and whole["lineage_truncated"] is False
    for bad in ("0", "some"):
        refused = error(api.call("auditor").get("/v1/audit/req/42", params={"lineage": bad}),
                        422, "INVALID_INPUT")
        assert refused["field"] == "lineage" and "`all`" in refused["hint"]
    assert [e.to for e in bundle.tag_events] == [v2["id"]]
    assert found.json()["tag_events"][0]["from"] == v1["id"]
    error(api.call("auditor").get("/v1/audit/unknown"), 404, "RESOURCE_DOES_NOT_EXIST")
    error(api.call("serving").get("/v1/audit/req/42"), 403, "FORBIDDEN")

    auditor = api.call("auditor")
    then = auditor.get("/v1/models/chat/at", params={"time": between.isoformat()})
    answer = ProductionAtOut.model_validate(then.json())
    assert answer.version is not None and answer.version.id == v1["id"]
    before = auditor.get("/v1/models/chat/at", params={"time": "2000-01-01T00:00:00Z"})
    assert before.json()["version"] is None
    naive = error(auditor.get("/v1/models/chat/at", params={"time": "2030-01-01T00:00:00"}), 422)
    assert naive["field"] == "time"
    error(auditor.get("/v1/models/chat/at"), 422, "INVALID_INPUT")


def test_health_and_metrics(api: Api) -> None:
    head = api.app.schema()[1]
    for probe in ("/healthz", "/readyz"):
        assert httpx.get(api.url + probe).json() == {
            "status": "ok", "database": api.app.engine.dialect.name, "schema": head,
            "dependencies": {}}
    assert httpx.get(api.url + "/livez").json() == {"status": "ok"}
    with api.app.engine.begin() as conn:  # the schema another Playbook version left
        conn.exec_driver_sql("UPDATE alembic_version SET version_num = '0004_outbox'")
    behind = error(httpx.get(api.url + "/readyz"), 503, "SCHEMA_NOT_CURRENT")
    assert f"0004_outbox, older than this Playbook's {head}" in behind["message"]
    assert "playbook db upgrade" in behind["hint"]
    assert httpx.get(api.url + "/livez").status_code == 200
    with api.app.engine.begin() as conn:
        conn.exec_driver_sql(f"UPDATE alembic_version SET version_num = '{head}'")
    v1 = api.register("chat", "x" * 40)
    v2 = api.register("chat", "x" * 60, v1["short"])
    for v in (v1, v2):
        api.call("ci").post("/v1/models/chat/promote", json={"version": v["id"]})
    api.call("ci").post("/v1/models/chat/rollback", json={})
    api.call("serving").get(PRODUCTION)
    text = httpx.get(api.url + "/metrics")
    assert text.headers["content-type"].startswith("text/plain; version=0.0.4")
    body = text.text
    assert 'playbook_tag_moves_total{model="chat",tag="production",play="promote"} 2' in body
    assert 'playbook_tag_moves_total{model="chat",tag="production",play="rollback"} 1' in body
    assert 'playbook_time_to_rollback_seconds_count{model="chat"} 1' in body
    assert ('playbook_http_requests_total{method="POST",route="/v1/models/{model}/versions",'
            'status="201"} 2') in body
    assert 'playbook_http_request_duration_seconds_bucket{route="/v1/models/{model}/tags/' \
           '{tag:path}",le="+Inf"} 1' in body
    assert "playbook_database_up 1" in body
    # Two announcements and an incident record and its confirmation wait for a server with
    # Slack (this one has none): pending, none dead.
    assert 'playbook_outbox_deliveries{handler="notify",state="pending"} 4' in body
    assert 'playbook_outbox_deliveries{handler="notify",state="dead"} 0' in body
