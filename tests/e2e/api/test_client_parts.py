"""The two halves of playbook-client on their own, against a served registry (the API
harness) or against nothing at all: the attributor never raises nor blocks and counts what it
drops; the resolver polls with ETags when asked to, and starts from its cache file during an
outage."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from api_harness import Api, serve
from playbook_client import Attributor, Playbook, Resolver
from testkit.ports import free_port
from testkit.waiting import until

NOWHERE = f"http://127.0.0.1:{free_port()}"  # nothing listens there


@pytest.fixture
def api(tmp_path: Path) -> Iterator[Api]:
    served = serve(tmp_path, f"sqlite:///{tmp_path / 'registry.db'}", stream_poll_s=0.05)
    try:
        yield served
    finally:
        served.close()


def test_the_attributor_never_raises_nor_blocks_and_counts_what_it_drops() -> None:
    attributor = Attributor(NOWHERE, "pbt_x", max_queue=10, batch_size=5, flush_s=0.01,
                            timeout_s=0.5, close_timeout_s=0.2)
    results = [attributor.record(f"r{i}", "chat", "f" * 64, latency_ms=3) for i in range(100)]
    assert results.count(False) >= 85  # 10 queued, up to 5 in hand, the rest dropped
    attributor.close()
    counts = attributor.stats()
    assert counts["recorded"] == 100 and counts["delivered"] == 0
    assert counts["dropped"] == 100 and counts["queued"] == 0
    assert attributor.record("late", "chat", "f" * 64) is False  # closed: dropped, no raise


def test_the_attributor_delivers_each_record_once(api: Api) -> None:
    v1 = api.register("chat", "x" * 40)
    with Attributor(api.url, api.tokens["serving"], batch_size=7, flush_s=0.01) as sender:
        for i in range(50):
            assert sender.record(f"req-{i}", "chat", v1["id"], latency_ms=i)
    assert sender.stats() == {"recorded": 50, "delivered": 50, "dropped": 0, "queued": 0}
    bundle = api.call("auditor").get("/v1/audit/req-49").json()
    assert bundle["attribution"]["version"] == v1["id"]


def test_the_resolver_polls_with_etags_and_starts_from_its_cache(api: Api,
                                                                  tmp_path: Path) -> None:
    v1 = api.register("chat", "x" * 40)
    v2 = api.register("chat", "x" * 60, v1["short"])
    api.call("ci").post("/v1/models/chat/promote", json={"version": v1["id"]})
    cache = tmp_path / "route.json"
    changes: list[str | None] = []
    with Resolver(api.url, api.tokens["serving"], "chat", stream=False, poll_s=0.05,
                  cache_file=cache, on_change=lambda r: changes.append(r.version_for())
                  ) as resolver:
        assert resolver.wait_ready(60) and resolver.version() == v1["id"]
        api.call("ci").post("/v1/models/chat/promote", json={"version": v2["id"]})
        # on_change runs after the new route is in place: wait for the callback itself
        until(lambda: changes[-1:] == [v2["id"]], "the poll to see the move")
        assert changes == [v1["id"], v2["id"]] and resolver.version() == v2["id"]
        assert not resolver.stale
    with Playbook(NOWHERE, "pbt_x", model="chat", cache_file=str(cache)) as offline:
        assert offline.version("any") == v2["id"]  # from the cache, Playbook away
        assert offline.resolver.stale
    with Playbook(NOWHERE, "pbt_x", model="chat", fallback="baked-in") as bare:
        assert bare.version() == "baked-in"
        with bare.serve("r1") as version:
            assert version == "baked-in"
        assert bare.attributor.stats()["recorded"] == 1


def test_the_resolver_refuses_a_retry_bound_below_its_first_retry() -> None:
    with pytest.raises(ValueError, match=r"max_retry_s must be at least 0\.5 s"):
        Resolver(NOWHERE, "pbt_x", "chat", max_retry_s=0.1, start=False)
