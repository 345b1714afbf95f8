"""Play 2, step 2: is the canary worse than production? Pure statistics, no I/O.

Serving reports outcomes (error, latency_ms, feedback) with every attribution; once both arms
have a minimum sample, the canary is compared against production on three signals, each asked
one-sidedly ("is the canary worse?"), because a canary that is merely different is no reason to
stop a promotion:

- error rate: two-proportion z-test on the records that say whether they failed;
- latency: p95 beyond a relative tolerance of production's p95 (p50 is reported beside it);
  percentiles have no cheap exact test, and a tolerance is what on-call people reason in;
- feedback: Welch's z-test on the means (large samples, so the normal approximation holds).

A clearly worse canary refuses its approval unless someone overrides it with a reason.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from core.errors import Refused

Verdict = Literal["insufficient", "ok", "worse"]


@dataclass(frozen=True)
class CanaryState:
    """The `canary` tag's traffic slice: which version gets what fraction since when."""

    model: str
    version_id: str
    fraction: float  # 0 < fraction < 1
    started_at: datetime
    started_by: str
    ended_at: datetime | None = None


@dataclass(frozen=True)
class ArmSample:
    """Outcomes of one version's requests within the canary window."""

    version_id: str
    n: int
    errors: int = 0  # records with error = true
    error_known: int = 0  # records that said whether they failed
    latencies: tuple[float, ...] = ()
    feedback: tuple[float, ...] = ()


@dataclass(frozen=True)
class Thresholds:
    min_sample: int = 200  # records per arm before any verdict
    alpha: float = 0.01  # one-sided significance for "worse"
    latency_tolerance: float = 0.2  # canary p95 may exceed production's by this fraction


@dataclass(frozen=True)
class Check:
    signal: str
    canary: float | None
    production: float | None
    worse: bool
    detail: str
    p_value: float | None = None


@dataclass(frozen=True)
class Comparison:
    verdict: Verdict
    canary: ArmSample
    production: ArmSample
    checks: tuple[Check, ...] = ()
    reasons: tuple[str, ...] = field(default=())

    @property
    def worse(self) -> bool:
        return self.verdict == "worse"

    def to_json(self) -> dict[str, Any]:
        def arm(a: ArmSample) -> dict[str, Any]:
            return {"version": a.version_id, "n": a.n, "errors": a.errors,
                    "error_rate": rate(a), "latency_p50": percentile(a.latencies, 50),
                    "latency_p95": percentile(a.latencies, 95),
                    "feedback_mean": mean(a.feedback)}

        return {"verdict": self.verdict, "canary": arm(self.canary),
                "production": arm(self.production), "reasons": list(self.reasons),
                "checks": [{"signal": c.signal, "canary": c.canary,
                            "production": c.production, "worse": c.worse, "detail": c.detail,
                            "p_value": c.p_value} for c in self.checks]}


def normal_sf(z: float) -> float:
    """P(Z > z) for a standard normal Z."""
    return 0.5 * math.erfc(z / math.sqrt(2.0))


def two_proportion_z(x1: int, n1: int, x2: int, n2: int) -> tuple[float, float]:
    """z for p1 > p2 under the pooled null, and its one-sided p-value."""
    if n1 <= 0 or n2 <= 0:
        return 0.0, 1.0
    pooled = (x1 + x2) / (n1 + n2)
    se = math.sqrt(pooled * (1.0 - pooled) * (1.0 / n1 + 1.0 / n2))
    if se == 0.0:  # both arms all-good or all-bad: no evidence either way
        return 0.0, 1.0
    z = (x1 / n1 - x2 / n2) / se
    return z, normal_sf(z)


def welch_z(a: Sequence[float], b: Sequence[float]) -> tuple[float, float]:
    """z for mean(a) > mean(b) with unequal variances, and its one-sided p-value."""
    if len(a) < 2 or len(b) < 2:
        return 0.0, 1.0
    ma, mb = sum(a) / len(a), sum(b) / len(b)
    va = sum((x - ma) ** 2 for x in a) / (len(a) - 1)
    vb = sum((x - mb) ** 2 for x in b) / (len(b) - 1)
    se = math.sqrt(va / len(a) + vb / len(b))
    if se == 0.0:
        return 0.0, 1.0
    z = (ma - mb) / se
    return z, normal_sf(z)


def percentile(values: Sequence[float], q: float) -> float | None:
    """Linear interpolation between closest ranks (numpy's default), q in [0, 100]."""
    if not values:
        return None
    ordered = sorted(values)
    pos = (len(ordered) - 1) * q / 100.0
    low = math.floor(pos)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (pos - low)


def mean(values: Sequence[float]) -> float | None:
    return sum(values) / len(values) if values else None


def rate(arm: ArmSample) -> float | None:
    return arm.errors / arm.error_known if arm.error_known else None


def compare(canary: ArmSample, production: ArmSample,
            thresholds: Thresholds = Thresholds()) -> Comparison:
    """The verdict on a canary; `insufficient` until both arms reach the minimum sample."""
    short = [f"{name} has {arm.n} of {thresholds.min_sample} records needed"
             for name, arm in (("canary", canary), ("production", production))
             if arm.n < thresholds.min_sample]
    if short:
        return Comparison("insufficient", canary, production, (), tuple(short))
    checks = (_errors(canary, production, thresholds),
              _latency(canary, production, thresholds),
              _feedback(canary, production, thresholds))
    worse = tuple(c.detail for c in checks if c.worse)
    return Comparison("worse" if worse else "ok", canary, production, checks, worse)


def _errors(c: ArmSample, p: ArmSample, t: Thresholds) -> Check:
    if c.error_known < t.min_sample or p.error_known < t.min_sample:
        return Check("error_rate", rate(c), rate(p), False, "too few records report `error`")
    z, pv = two_proportion_z(c.errors, c.error_known, p.errors, p.error_known)
    worse = pv < t.alpha
    cr, pr = rate(c) or 0.0, rate(p) or 0.0
    detail = (f"error rate {cr:.2%} vs production {pr:.2%} (z={z:.2f}, p={pv:.2g})"
              + (" is significantly higher" if worse else ""))
    return Check("error_rate", cr, pr, worse, detail, pv)


def _latency(c: ArmSample, p: ArmSample, t: Thresholds) -> Check:
    if len(c.latencies) < t.min_sample or len(p.latencies) < t.min_sample:
        return Check("latency_p95", percentile(c.latencies, 95), percentile(p.latencies, 95),
                     False, "too few records report `latency_ms`")
    c95, p95 = percentile(c.latencies, 95) or 0.0, percentile(p.latencies, 95) or 0.0
    c50, p50 = percentile(c.latencies, 50) or 0.0, percentile(p.latencies, 50) or 0.0
    worse = c95 > p95 * (1.0 + t.latency_tolerance)
    detail = (f"latency p95 {c95:g} ms vs production {p95:g} ms (p50 {c50:g} vs {p50:g})"
              + (f", more than {t.latency_tolerance:.0%} slower" if worse else ""))
    return Check("latency_p95", c95, p95, worse, detail)


def _feedback(c: ArmSample, p: ArmSample, t: Thresholds) -> Check:
    if len(c.feedback) < t.min_sample or len(p.feedback) < t.min_sample:
        return Check("feedback_mean", mean(c.feedback), mean(p.feedback), False,
                     "too few records report `feedback`")
    z, pv = welch_z(p.feedback, c.feedback)  # worse = production's mean is higher
    worse = pv < t.alpha
    cm, pm = mean(c.feedback) or 0.0, mean(p.feedback) or 0.0
    detail = (f"feedback mean {cm:.3g} vs production {pm:.3g} (z={z:.2f}, p={pv:.2g})"
              + (" is significantly lower" if worse else ""))
    return Check("feedback_mean", cm, pm, worse, detail, pv)


def check_approval(comparison: Comparison | None, override_reason: str | None) -> bool:
    """Refuse to promote a clearly worse canary unless overridden with a reason.

    Returns whether an override was used, so the caller can record who overrode what.
    """
    if comparison is None or not comparison.worse:
        return False
    if override_reason and override_reason.strip():
        return True
    raise Refused("the canary is clearly worse than production: "
                  + "; ".join(comparison.reasons),
                  hint="roll the canary back, or override with a reason "
                       "(--override REASON, or override_reason in the API)")
