"""core.canary: the statistics that decide whether a canary is clearly worse."""

from __future__ import annotations

import math

import pytest

from core.canary import (
    ArmSample,
    Thresholds,
    check_approval,
    compare,
    normal_sf,
    percentile,
    two_proportion_z,
    welch_z,
)
from core.errors import Refused

T = Thresholds(min_sample=100, alpha=0.01, latency_tolerance=0.2)


def arm(version: str, n: int, errors: int, latency: float = 100.0,
        feedback: float = 0.8) -> ArmSample:
    return ArmSample(version, n, errors, n, tuple(latency + i % 20 for i in range(n)),
                     tuple(feedback + (i % 7) / 100 for i in range(n)))


def test_normal_tail() -> None:
    assert normal_sf(0) == pytest.approx(0.5)
    assert normal_sf(1.959964) == pytest.approx(0.025, abs=1e-6)
    assert normal_sf(-1.644854) == pytest.approx(0.95, abs=1e-6)


def test_two_proportion_z_matches_the_textbook() -> None:
    # p1 = .15, p2 = .05, pooled .10: se = sqrt(.1 * .9 * (2 / 200)) = .03, z = 3.333
    z, p = two_proportion_z(30, 200, 10, 200)
    assert z == pytest.approx(10 / 3)
    assert p == pytest.approx(0.000429, rel=1e-2)
    assert two_proportion_z(0, 100, 0, 100) == (0.0, 1.0)  # no errors anywhere: no evidence
    assert two_proportion_z(5, 0, 1, 10) == (0.0, 1.0)
    z, p = two_proportion_z(10, 200, 30, 200)
    assert z < 0 and p > 0.99  # better, not worse: one-sided


def test_percentiles_interpolate_like_numpy() -> None:
    values = [float(v) for v in range(1, 101)]
    assert percentile(values, 50) == pytest.approx(50.5)
    assert percentile(values, 95) == pytest.approx(95.05)
    assert percentile([3.0, 1.0, 2.0], 0) == 1.0 and percentile([7.0], 95) == 7.0
    assert percentile([], 50) is None


def test_welch_z() -> None:
    z, p = welch_z([1.0, 2.0, 3.0, 4.0], [1.0, 2.0, 3.0, 4.0])
    assert z == 0 and p == 0.5
    z, p = welch_z([5.0, 6.0, 7.0, 8.0], [1.0, 2.0, 3.0, 4.0])
    assert z == pytest.approx(4 / math.sqrt(5 / 3 / 4 * 2))
    assert welch_z([1.0], [2.0, 3.0]) == (0.0, 1.0)


def test_no_verdict_until_both_arms_have_the_minimum_sample() -> None:
    seen = compare(arm("c", 99, 50), arm("p", 1000, 1), T)
    assert seen.verdict == "insufficient" and not seen.worse
    assert seen.reasons == ("canary has 99 of 100 records needed",)


def test_the_same_behaviour_is_ok_and_a_worse_one_is_flagged() -> None:
    assert compare(arm("c", 500, 5), arm("p", 500, 5), T).verdict == "ok"
    errors = compare(arm("c", 500, 40), arm("p", 500, 5), T)
    assert errors.worse and [c.signal for c in errors.checks if c.worse] == ["error_rate"]
    slow = compare(arm("c", 500, 5, latency=150), arm("p", 500, 5), T)
    assert [c.signal for c in slow.checks if c.worse] == ["latency_p95"]
    assert "slower" in slow.reasons[0]
    unhappy = compare(arm("c", 500, 5, feedback=0.6), arm("p", 500, 5), T)
    assert [c.signal for c in unhappy.checks if c.worse] == ["feedback_mean"]
    # Slightly more errors is not *clearly* worse.
    assert compare(arm("c", 500, 8), arm("p", 500, 5), T).verdict == "ok"


def test_signals_nobody_reported_are_skipped() -> None:
    bare = ArmSample("c", 500)
    seen = compare(bare, ArmSample("p", 500), T)
    assert seen.verdict == "ok"
    assert all(not c.worse and "too few" in c.detail for c in seen.checks)
    data = seen.to_json()
    assert data["canary"]["error_rate"] is None and data["canary"]["latency_p95"] is None


def test_a_worse_canary_needs_an_override_with_a_reason() -> None:
    worse = compare(arm("c", 500, 40), arm("p", 500, 5), T)
    with pytest.raises(Refused) as refused:
        check_approval(worse, None)
    assert "clearly worse" in str(refused.value)
    with pytest.raises(Refused):
        check_approval(worse, "   ")
    assert check_approval(worse, "retiring the old one") is True
    assert check_approval(compare(arm("c", 500, 5), arm("p", 500, 5), T), None) is False
    assert check_approval(None, None) is False
