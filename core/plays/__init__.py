"""The seven plays of the playbook, by name. Start reading here after README."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from core.plays.approval import approve, reject
from core.plays.audit import audit, production_at
from core.plays.experiment import start_experiment
from core.plays.gc import collect_garbage
from core.plays.investigate import investigate
from core.plays.promote import promote
from core.plays.register import register
from core.plays.rehearse import rehearse
from core.plays.rollback import rollback

PLAYS: dict[str, tuple[str, Callable[..., Any]]] = {
    "register": ("1 Register a behaviour-affecting change", register),
    "promote": ("2 Promote: move production (with approvers for high stakes)", promote),
    "approve": ("2 Promote: a second approver says yes", approve),
    "reject": ("2 Promote: an approver says no", reject),
    "rollback": ("3 Emergency rollback to the last known-good version", rollback),
    "rehearse": ("3 Rehearse a rollback on the rehearsal tag, timed", rehearse),
    "experiment": ("4 Experiment on a branch with short retention", start_experiment),
    "audit": ("5 Audit: which version served a request", audit),
    "production-at": ("5 Audit: what production was at a time", production_at),
    "gc": ("6 Garbage-collect heavy artifacts past retention", collect_garbage),
    "investigate": ("7 Investigate a regression", investigate),
}

__all__ = ["PLAYS", "approve", "audit", "collect_garbage", "investigate", "production_at",
           "promote", "register", "rehearse", "reject", "rollback", "start_experiment"]
