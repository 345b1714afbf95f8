"""From monitoring's alert to the card, and from the on-call's click to the tag moved.

    python -m bench.alerts [--backend sqlite|postgres|both] [--iterations 200]

Each iteration promotes a fresh version (untimed; production then has a known-good version
before it), then times:
- `alert_to_card`: an Alertmanager payload through `core.plays.alerts.receive` (parsed, the
  detection and its IncidentDetected event committed), then what the notifier does before its
  Slack call: the card's view read and its blocks built. Slack's own answer time and the
  investigation run after the post are not in it.
- `click_to_tag_moved`: `core.plays.alerts.roll_back` (what the Roll back button runs) from
  the call to the tag's move, read from the incident (`rolled_back_at`) against the system
  clock at the call; the confirming eval after the move is not in it.
Prints JSON with p50/p99 per backend, in a registry of `--history` versions.
"""

from __future__ import annotations

import argparse
import json
from datetime import UTC, datetime
from typing import Any

from bench.harness import MODEL, Database, Json, database, latency, log, measure
from bench.seed import seed_registry
from bot.slack.blocks.detection import detection_card
from core.commands import Promote, Register
from core.plays import alerts, promote, register


def payload(n: int) -> dict[str, Any]:
    labels = {"alertname": "AnswerQualityLow", "model": MODEL, "n": str(n)}
    return {"version": "4", "groupKey": f"g{n}", "status": "firing", "receiver": "playbook",
            "groupLabels": {}, "commonLabels": labels, "commonAnnotations": {},
            "externalURL": "http://am", "alerts": [{
                "status": "firing", "labels": labels,
                "annotations": {"summary": "thumbs-down rate above 20%"},
                "startsAt": datetime.now(UTC).isoformat(), "fingerprint": f"fp-{n}"}]}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--backend", choices=("sqlite", "postgres", "both"), default="both")
    p.add_argument("--iterations", type=int, default=200)
    p.add_argument("--history", type=int, default=1000)
    args = p.parse_args(argv)
    out: Json = {}
    for backend in (("sqlite", "postgres") if args.backend == "both" else (args.backend,)):
        with database(backend) as db:
            out[backend] = run(db, args.iterations, args.history)
    print(json.dumps(out, indent=2))
    return 0


def run(db: Database, iterations: int, history: int) -> Json:
    log(f"{db.backend}: seeding {history} versions")
    seeded = seed_registry(db, history, spare=0)
    ctx = db.context()
    parent = seeded.all_ids[-1]
    detections: dict[int, str] = {}

    def fresh(i: int) -> None:  # untimed: a new bad version in production
        nonlocal parent
        v = register(Register.parse(model=MODEL, components={"prompt": f"bench {i}"},
                                    owner="bench", reason="bench", parent=f"{MODEL}@{parent}",
                                    scores={"score": 0.99}, actor="bench"), ctx).version
        promote(Promote.parse(model=MODEL, version=v.short, actor="bench"), ctx)
        parent = v.id

    def alert(i: int) -> None:
        (det_id,) = alerts.receive(payload(i), ctx).opened
        detection_card(alerts.view(ctx, det_id))
        detections[i] = det_id

    log(f"{db.backend}: alert to card x{iterations}")
    to_card = measure("alert_to_card", alert, iterations, warmup=5, setup=fresh)
    moved: list[float] = []

    def click(i: int) -> None:
        started = datetime.now(UTC)
        done = alerts.roll_back(detections[i], "UONCALL", ctx)
        moved.append((done.incident.rolled_back_at - started).total_seconds() * 1000)

    log(f"{db.backend}: click to tag moved x{iterations}")
    for i in range(10_000, 10_000 + iterations + 5):  # each: a new bad version, its alert
        fresh(i)
        alert(i)
        click(i)
    return {"server": db.server_version(), "history_versions": history,
            "alert_to_card": latency(to_card, None),
            "click_to_tag_moved": latency(moved[5:], None)}


if __name__ == "__main__":
    raise SystemExit(main())
