"""What changed between two versions, component by component (play 7 and `playbook diff`)."""

from __future__ import annotations

import difflib
from typing import Any

from core.domain import Version
from core.identity import ArtifactRef


def _flatten(value: Any, prefix: str = "") -> dict[str, Any]:
    if isinstance(value, dict) and value:
        out: dict[str, Any] = {}
        for k, v in value.items():
            out.update(_flatten(v, f"{prefix}.{k}" if prefix else k))
        return out
    return {prefix: value} if prefix else {}


def config_changes(old: dict[str, Any] | None, new: dict[str, Any] | None) -> dict[str, Any]:
    a, b = _flatten(old or {}), _flatten(new or {})
    return {
        "added": {k: b[k] for k in sorted(b.keys() - a.keys())},
        "removed": {k: a[k] for k in sorted(a.keys() - b.keys())},
        "changed": {k: [a[k], b[k]] for k in sorted(a.keys() & b.keys()) if a[k] != b[k]},
    }


def _ref(old: ArtifactRef | None, new: ArtifactRef | None) -> dict[str, Any]:
    def show(r: ArtifactRef | None) -> str | None:
        if r is None:
            return None
        return f"{r.ref} (sha256 {r.sha256[:12]})" if r.sha256 else r.ref

    return {"changed": old != new, "from": show(old), "to": show(new)}


def diff_versions(old: Version, new: Version) -> dict[str, Any]:
    a, b = old.components, new.components
    prompt = list(difflib.unified_diff(
        (a.prompt or "").splitlines(), (b.prompt or "").splitlines(),
        fromfile=old.short, tofile=new.short, lineterm=""))
    config = config_changes(a.config, b.config)
    result: dict[str, Any] = {
        "from": old.short, "to": new.short,
        "weights": _ref(a.weights, b.weights),
        "prompt": {"changed": a.prompt != b.prompt, "diff": prompt},
        "config": config,  # its "changed" is the changed keys, not a flag
        "index": _ref(a.index, b.index),
    }
    changed = {"weights": a.weights != b.weights, "prompt": a.prompt != b.prompt,
               "config": any(config.values()), "index": a.index != b.index}
    result["changed_components"] = [k for k, yes in changed.items() if yes]
    return result
