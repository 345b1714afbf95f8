"""The play engine's ports to the world beyond its records: the eval suite, the artifact store,
the clock, who may approve, and who is told (Slack). core/ports.py holds the stored state."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from core.config import ModelPolicy
from core.domain import Artifact, Version

if TYPE_CHECKING:
    from core.events import MirrorReported, Promoted, ServedOutsideRegistry


class Evaluator(Protocol):
    """Runs the eval suite on a version and answers metric -> score."""

    def evaluate(self, version: Version) -> dict[str, float]: ...
    def describe(self) -> str: ...


EvaluatorFactory = Callable[[ModelPolicy], Evaluator | None]


class ArtifactStore(Protocol):
    def put(self, model: str, version_id: str, path: Path) -> Artifact:
        """Copy a file into the store under the version, addressed by its sha256."""
        ...
    def delete(self, model: str, version_id: str) -> int:
        """Drop a version's artifacts; blobs no other version uses are removed. Bytes freed."""
        ...
    def path_of(self, model: str, version_id: str, name: str) -> Path | None: ...


class Clock(Protocol):
    def now(self) -> datetime:
        """Timezone-aware UTC."""
        ...


class ApproverDirectory(Protocol):
    """Who may approve for a model (Slack resolves groups and channel membership)."""

    def may_approve(self, policy: ModelPolicy, user: str) -> tuple[bool, str]:
        """(allowed, why not)."""
        ...


class Notifier(Protocol):
    """Tells people what a play did (Slack implements it). Every method is idempotent: a
    delivery that runs twice must not post twice."""

    def approval_requested(self, request_id: str, channel: str | None) -> None:
        """Post the request's card (in the release channel, else `channel`)."""
        ...
    def approval_changed(self, request_id: str) -> None:
        """Show the request as it is now wherever its card is."""
        ...
    def incident_opened(self, incident_id: str, channel: str | None) -> None: ...
    def incident_confirmed(self, incident_id: str) -> None: ...
    def mirror_reported(self, event: MirrorReported) -> None:
        """Whether serving's registry followed a rollback, in the incident's thread."""
        ...
    def rehearsal_finished(self, incident_id: str, production_version: str,
                           target_version: str, budget_s: float) -> None:
        """A drill's verdict against its budget, in its record's thread."""
        ...
    def promoted(self, event: Promoted) -> None: ...
    def canary_judged(self, model: str, version_id: str) -> None:
        """Show the canary's comparison on the open requests for this version."""
        ...
    def digest_due(self, channel: str, slot: datetime) -> None: ...
    def rehearsal_due(self, model: str, slot: datetime) -> None: ...
    def experiment_expiring(self, model: str, tag: str, version_id: str,
                            expires_at: datetime) -> None: ...
    def gc_reported(self, collected: tuple[str, ...], bytes_freed: int,
                    slot: datetime) -> None: ...
    def served_outside_registry(self, event: ServedOutsideRegistry) -> None:
        """A version no tag pointed at served many requests: in the incident channel."""
        ...
    def incident_changed(self, incident_id: str) -> None:
        """A later stage reached: the incident record, updated in place."""
        ...
    def incident_detected(self, detection_id: str) -> None:
        """Monitoring opened an incident: its card, in the incident channel."""
        ...
    def detection_changed(self, detection_id: str) -> None:
        """Its card, updated in place."""
        ...
