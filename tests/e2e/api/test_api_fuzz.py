"""Every POST body, however odd, gets a clean answer: a 2xx, or a 4xx that names what was
wrong; never a 5xx (which clients retry) and never a traceback. Fixed seed and a bounded
number of bodies per route, so every run tries the same ones."""

from __future__ import annotations

import json
from typing import Any

import pytest
from api_harness import Api
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

ROUTES = ["/v1/models/chat/versions", "/v1/models/chat/promote", "/v1/models/chat/rollback",
          "/v1/approvals/apr-1/approve", "/v1/attributions"]
KEYS = ["components", "prompt", "weights", "ref", "sha256", "owner", "reason", "root",
        "parent", "scores", "score", "version", "to", "symptom", "tag", "expected_revision",
        "override_reason", "records", "request_id", "model", "served_at", "latency_ms",
        "error", "feedback", "canary", "fraction", "note"]
SCALARS = st.one_of(st.none(), st.booleans(), st.integers(-2**70, 2**70),
                    st.floats(allow_nan=False, allow_infinity=False), st.text(max_size=40),
                    st.sampled_from(["chat", "chat@1a2b3c4d", "production", "0001-01-01T00:00Z",
                                     "\u0000", "²", "9" * 400, "x" * 5000]))
JSON = st.recursive(SCALARS, lambda inner: st.one_of(
    st.lists(inner, max_size=4),
    st.dictionaries(st.one_of(st.sampled_from(KEYS), st.text(max_size=10)), inner,
                    max_size=6)), max_leaves=20)


@settings(derandomize=True, max_examples=150, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture,
                                 HealthCheck.too_slow])
@given(route=st.sampled_from(ROUTES), body=JSON)
def test_any_body_gets_a_clean_answer(api: Api, route: str, body: Any) -> None:
    client = api.call("root")
    answer = client.post(route, content=json.dumps(body),
                         headers={"content-type": "application/json"})
    assert answer.status_code < 500, (route, body, answer.text)
    if answer.status_code >= 400:
        error = answer.json()["error"]
        assert error["code"] and error["message"] and "Traceback" not in error["message"]


@pytest.mark.parametrize("raw", [b"", b"{", b"[" * 3000, b'{"a": 1e999}', b"\xff\xfe",
                                 b'{"components": {"prompt": "\\ud800"}}', b"null", b"[]"])
def test_malformed_json_gets_a_clean_answer(api: Api, raw: bytes) -> None:
    for route in ROUTES:
        answer = api.call("root").post(route, content=raw,
                                       headers={"content-type": "application/json"})
        assert answer.status_code < 500, (route, raw, answer.text)
