"""Prometheus text exposition, written by hand: the format is a few lines of text and
prometheus_client would be a dependency for three counters and two histograms.

Request counts, latencies and attribution ingest are this process's own (scrape every replica
and sum). Tag moves, times-to-rollback and deliveries are read from the database at scrape
time, from running totals the registry keeps as it writes (storage/repositories/counters.py),
so a scrape costs the same at any size of history, and every replica reports the same
registry-wide numbers (aggregate them with max, not sum).
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import accumulate

from core.domain import TIME_TO_ROLLBACK_BUCKETS, RollbackSeconds

LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def labels(**pairs: str) -> str:
    if not pairs:
        return ""
    return "{" + ",".join(f'{k}="{_escape(v)}"' for k, v in pairs.items()) + "}"


def _num(value: float) -> str:
    return repr(float(value)) if value != int(value) else str(int(value))


@dataclass
class Histogram:
    buckets: Sequence[float]
    counts: list[int] = field(default_factory=list)
    total: float = 0.0
    n: int = 0

    def __post_init__(self) -> None:
        self.counts = [0] * len(self.buckets)

    def observe(self, value: float) -> None:
        for i, bound in enumerate(self.buckets):
            if value <= bound:
                self.counts[i] += 1
        self.total += value
        self.n += 1

    def lines(self, name: str, **pairs: str) -> list[str]:
        out = [f"{name}_bucket{labels(**pairs, le=_num(b))} {c}"
               for b, c in zip(self.buckets, self.counts, strict=True)]
        out.append(f"{name}_bucket{labels(**pairs, le='+Inf')} {self.n}")
        out.append(f"{name}_sum{labels(**pairs)} {_num(self.total)}")
        out.append(f"{name}_count{labels(**pairs)} {self.n}")
        return out


def header(name: str, kind: str, help_text: str) -> list[str]:
    return [f"# HELP {name} {help_text}", f"# TYPE {name} {kind}"]


class Metrics:
    """This process's counters; thread-safe, since sync routes run in a thread pool."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._requests: dict[tuple[str, str, str], int] = {}
        self._latency: dict[str, Histogram] = {}
        self._attributions = {"received": 0, "stored": 0, "duplicates": 0}
        self._batches = 0

    def observe_request(self, method: str, route: str, status: int, seconds: float) -> None:
        with self._lock:
            key = (method, route, str(status))
            self._requests[key] = self._requests.get(key, 0) + 1
            hist = self._latency.get(route)
            if hist is None:
                hist = self._latency[route] = Histogram(LATENCY_BUCKETS)
            hist.observe(seconds)

    def count_attributions(self, received: int, stored: int) -> None:
        with self._lock:
            self._batches += 1
            self._attributions["received"] += received
            self._attributions["stored"] += stored
            self._attributions["duplicates"] += received - stored

    def render(self, tag_moves: Iterable[tuple[str, str, str, int]],
               rollbacks: Mapping[str, RollbackSeconds],
               deliveries: Mapping[tuple[str, str], int] | None = None) -> str:
        with self._lock:
            lines = header("playbook_http_requests_total", "counter",
                           "HTTP requests answered, by method, route template and status.")
            lines += [f"playbook_http_requests_total"
                      f"{labels(method=m, route=r, status=s)} {n}"
                      for (m, r, s), n in sorted(self._requests.items())]
            lines += header("playbook_http_request_duration_seconds", "histogram",
                            "Time to answer an HTTP request, by route template.")
            for route, hist in sorted(self._latency.items()):
                lines += hist.lines("playbook_http_request_duration_seconds", route=route)
            lines += header("playbook_attribution_batches_total", "counter",
                            "Attribution batches stored by this process.")
            lines.append(f"playbook_attribution_batches_total {self._batches}")
            lines += header("playbook_attributions_total", "counter",
                            "Attribution records received by this process, by outcome.")
            lines += [f"playbook_attributions_total{labels(outcome=k)} {v}"
                      for k, v in self._attributions.items()]
        lines += header("playbook_tag_moves_total", "counter",
                        "Tag moves recorded in the registry, by model, tag and play.")
        lines += [f"playbook_tag_moves_total{labels(model=m, tag=t, play=p)} {n}"
                  for m, t, p, n in sorted(tag_moves)]
        lines += header("playbook_time_to_rollback_seconds", "histogram",
                        "Time from opening an emergency rollback to the tag having moved.")
        for model, seconds in sorted(rollbacks.items()):
            hist = Histogram(TIME_TO_ROLLBACK_BUCKETS)
            hist.counts = list(accumulate(seconds.per_bucket[:-1]))
            hist.total, hist.n = seconds.total_s, seconds.count
            lines += hist.lines("playbook_time_to_rollback_seconds", model=model)
        lines += header("playbook_outbox_deliveries", "gauge",
                        "Consequences of plays (Slack posts, ...) by handler and state: "
                        "pending, done, dead (gave up; `playbook outbox retry`), skipped.")
        counts = dict(deliveries or {})
        for handler in sorted({h for h, _ in counts} | {"notify"}):
            for state in ("pending", "done", "dead", "skipped"):
                lines.append(f"playbook_outbox_deliveries{labels(handler=handler, state=state)}"
                             f" {counts.get((handler, state), 0)}")
        return "\n".join(lines) + "\n"
