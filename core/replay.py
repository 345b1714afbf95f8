"""Tags are a fold over their events: replaying the log yields where every tag points."""

from __future__ import annotations

from collections.abc import Iterable

from core.domain import TagMoved
from core.errors import InvalidState


def replay(events: Iterable[TagMoved]) -> dict[tuple[str, str], tuple[str, int]]:
    """(model, tag) -> (version id, revision), checking that each tag's history is one chain."""
    state: dict[tuple[str, str], tuple[str, int]] = {}
    for e in events:
        key = (e.model, e.tag)
        before = state.get(key)
        expected_from, expected_rev = (before[0], before[1] + 1) if before else (None, 1)
        if e.from_version != expected_from or e.revision != expected_rev:
            raise InvalidState(f"event log of {e.model}:{e.tag} is broken at revision "
                               f"{e.revision} (seq {e.seq})")
        state[key] = (e.to_version, e.revision)
    return state
