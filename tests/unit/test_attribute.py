"""Attribution: every production response names its version; a batch is all or nothing."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from fakes import T0, Fakes, make_ctx
from given import BASE, registered

from core.domain import Attribution, Version
from core.engine import PlayContext
from core.errors import InvalidInput
from core.plays.attribute import attribute


@pytest.fixture
def world() -> tuple[PlayContext, Fakes, Version]:
    ctx, fakes = make_ctx(BASE)
    return ctx, fakes, registered(ctx, "chat", "v1", 0.8)


def rec(request_id: str, version: str, **kw: Any) -> dict[str, Any]:
    return {"request_id": request_id, "model": "chat", "version": version, **kw}


def test_a_batch_is_stored_with_the_full_version_id(
        world: tuple[PlayContext, Fakes, Version]) -> None:
    ctx, fakes, v1 = world
    served = T0 - timedelta(minutes=1)
    result = attribute([rec("r1", v1.id, served_at=served.isoformat(), latency_ms=12.5,
                            error=False, feedback=1.0),
                        rec("r2", v1.short), rec("r3", v1.id[:8])], ctx)

    assert (result.received, result.stored, result.duplicates) == (3, 3, 0)
    assert fakes.attributions["r1"] == Attribution("r1", "chat", v1.id, served, 12.5, False, 1.0)
    assert fakes.attributions["r2"].version_id == v1.id
    assert fakes.attributions["r2"].served_at == fakes.clock.now()  # default: received now
    assert fakes.attributions["r3"].version_id == v1.id
    assert [r.play for r in fakes.runs] == ["register"]  # the high-volume path records no run


def test_a_retried_batch_is_harmless(world: tuple[PlayContext, Fakes, Version]) -> None:
    ctx, fakes, v1 = world
    attribute([rec("r1", v1.id, latency_ms=1)], ctx)
    again = attribute([rec("r1", v1.id, latency_ms=999), rec("r2", v1.id),
                       rec("r2", v1.id)], ctx)
    assert (again.received, again.stored, again.duplicates) == (3, 1, 2)
    assert fakes.attributions["r1"].latency_ms == 1  # the first record stands
    assert sorted(fakes.attributions) == ["r1", "r2"]


@pytest.mark.parametrize(("bad", "field"), [
    ({"model": "chat", "version": "x"}, "records[1].request_id"),
    (rec("r", "chat@0123456789ab"), "records[1]"),  # not registered
    (rec("r", "zz"), "records[1]"),  # not a version reference
    ({**rec("r", "x"), "model": "vision"}, "records[1]"),  # undeclared model
    (rec("r", "V", latency_ms=-1), "records[1].latency_ms"),
    (rec("r", "V", served_at="yesterday"), "records[1].served_at"),
    (rec("r", "V", served_at="2026-03-02T09:00:00"), "records[1].served_at"),  # no time zone
    (rec("r", "V", colour="red"), "records[1].colour"),
    (rec("r" * 201, "V"), "records[1].request_id"),
])
def test_one_bad_record_stores_nothing_and_names_its_index(
        world: tuple[PlayContext, Fakes, Version], bad: dict[str, Any], field: str) -> None:
    ctx, fakes, v1 = world
    attribute([rec("earlier", v1.id)], ctx)
    before = fakes.snapshot()
    bad = {k: (v1.id if v == "V" else v) for k, v in bad.items()}

    with pytest.raises(InvalidInput) as err:
        attribute([rec("ok-0", v1.id), bad, rec("ok-2", v1.id)], ctx)

    assert err.value.field == field
    assert err.value.hint == "nothing of this batch was stored"
    assert fakes.snapshot() == before


def test_a_version_of_another_model_is_refused(
        world: tuple[PlayContext, Fakes, Version]) -> None:
    ctx, fakes, _ = world
    r1 = registered(ctx, "ranker", "r1", 0.3)
    with pytest.raises(InvalidInput) as err:
        attribute([rec("a", r1.id)], ctx)  # r1 is a ranker version, not a chat one
    assert err.value.field == "records[0]"
    with pytest.raises(InvalidInput):
        attribute([rec("a", r1.short)], ctx)
    assert fakes.attributions == {}


def test_an_empty_batch_stores_nothing(world: tuple[PlayContext, Fakes, Version]) -> None:
    ctx, fakes, _ = world
    result = attribute([], ctx)
    assert (result.received, result.stored, result.duplicates) == (0, 0, 0)
    assert fakes.attributions == {}


def test_a_request_attributed_to_another_version_is_refused_whole(
        world: tuple[PlayContext, Fakes, Version]) -> None:
    ctx, fakes, v1 = world
    v2 = registered(ctx, "chat", "v2", 0.9, parent=v1)
    attribute([rec("r1", v1.id)], ctx)
    with pytest.raises(InvalidInput) as err:
        attribute([rec("r2", v1.id), rec("r1", v2.id)], ctx)
    assert err.value.field == "records[1].version" and "already attributed" in str(err.value)
    with pytest.raises(InvalidInput) as err:
        attribute([rec("r3", v1.id), rec("r3", v2.id)], ctx)  # within one batch
    assert err.value.field == "records[1].version"
    assert sorted(fakes.attributions) == ["r1"]
    assert fakes.attributions["r1"].version_id == v1.id


def test_a_record_older_than_attribution_retention_is_refused() -> None:
    ctx, fakes = make_ctx(BASE + "\n[schedule]\nattribution_retention_days = 30\n")
    v1 = registered(ctx, "chat", "v1", 0.8)
    before = fakes.snapshot()
    old = T0 - timedelta(days=30, seconds=1)
    with pytest.raises(InvalidInput) as err:
        attribute([rec("old", v1.id, served_at=old.isoformat())], ctx)
    assert err.value.field == "records[0].served_at"
    assert "older than attribution_retention_days (30)" in str(err.value)
    assert fakes.snapshot() == before
    assert attribute([rec("kept", v1.id, served_at=(T0 - timedelta(days=30)).isoformat())],
                     ctx).stored == 1
