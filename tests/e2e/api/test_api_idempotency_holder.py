"""An Idempotency-Key whose first holder died (its replica was killed mid-request) is free
again once its holder stops renewing it, not after a fixed two minutes: a live holder renews
it every 10 s while its request runs, so a claim not renewed for 30 s is known dead."""

from __future__ import annotations

import hashlib
import json
import threading
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from api_harness import Api, error, serve
from testkit.waiting import until

from core.config import ModelPolicy
from core.domain import Version


def test_a_dead_holders_key_is_taken_over_after_30_s_and_answers_retry_after_before(
        api: Api) -> None:
    body = {"components": {"prompt": "y" * 50}, "owner": "ana", "reason": "r", "root": True}
    raw = json.dumps(body).encode()
    ci = api.call("ci")
    fingerprint = hashlib.sha256(b"POST /v1/models/chat/versions?\n" + raw).hexdigest()
    with api.app.ctx.uow() as u:  # what a replica killed mid-registration leaves
        token_id = next(t.id for t in u.tokens.list() if t.name == "ci")
        u.idempotency.claim(token_id, "reg-1", fingerprint, api.clock.now())
        u.commit()
    headers = {"Idempotency-Key": "reg-1", "content-type": "application/json"}

    api.clock.advance(seconds=5)
    busy = ci.post("/v1/models/chat/versions", content=raw, headers=headers)
    error(busy, 409, "IDEMPOTENCY_IN_PROGRESS")
    assert busy.headers["retry-after"] == "10"  # a live holder would have renewed by then

    api.clock.advance(timedelta(seconds=30))
    done = ci.post("/v1/models/chat/versions", content=raw, headers=headers)
    assert done.status_code == 201, done.text
    replay = ci.post("/v1/models/chat/versions", content=raw, headers=headers)
    assert replay.status_code == 201 and replay.headers["idempotent-replayed"] == "true"
    assert replay.json() == done.json()


def test_a_live_holder_renews_its_key_while_its_request_runs(tmp_path: Path,
                                                             engine_url: str) -> None:
    api = serve(tmp_path, engine_url, idempotency_stale_s=0.6)  # renewed every 0.2 s
    release = threading.Event()
    fast = api.app.ctx.evaluator_for

    def slow(policy: ModelPolicy) -> Any:
        inner = fast(policy)

        class Waiting:
            def evaluate(self, version: Version) -> dict[str, float]:
                release.wait(60)
                return inner.evaluate(version)  # type: ignore[union-attr]

            def describe(self) -> str:
                return "waits for the test"

        return Waiting()

    api.app.ctx.evaluator_for = slow
    body = {"components": {"prompt": "z" * 50}, "owner": "ana", "reason": "r", "root": True}
    headers = {"Idempotency-Key": "reg-2"}
    answers: list[httpx.Response] = []
    try:
        first = threading.Thread(target=lambda: answers.append(api.call("ci").post(
            "/v1/models/chat/versions", json=body, headers=headers)))
        first.start()
        with api.app.ctx.uow() as u:
            token_id = next(t.id for t in u.tokens.list() if t.name == "ci")

        def claimed_at() -> datetime | None:
            with api.app.ctx.uow() as u:
                held = u.idempotency.get(token_id, "reg-2")
            return held.created_at if held is not None else None

        until(claimed_at, "the first request to claim its key")
        later = api.clock.advance(minutes=10)  # long past the 0.6 s: only renewal keeps it
        until(lambda: (c := claimed_at()) is not None and c >= later,
              "the running request to renew its claim")
        busy = api.call("ci").post("/v1/models/chat/versions", json=body, headers=headers)
        error(busy, 409, "IDEMPOTENCY_IN_PROGRESS")  # alive: not taken over
        release.set()
        first.join(60)
        assert answers and answers[0].status_code == 201, answers
    finally:
        release.set()
        api.close()
