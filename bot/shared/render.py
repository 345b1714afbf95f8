"""Plain-text output shared by the CLI and the Slack app (tables, key/value blocks, diffs).
The CLI prints it; Slack wraps it in code blocks. --json bypasses all of this."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from core.errors import InvalidInput
from core.timetext import stamp


@dataclass(frozen=True)
class Out:
    """What a command answers: data for --json, text for people."""

    data: Any
    text: str


def when(value: datetime | str | None) -> str:
    if value is None:
        return "-"
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return stamp(value, seconds=True)


def table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    if not rows:
        return "(none)"
    cells = [[str(h) for h in headers]] + [["-" if c is None else str(c) for c in r]
                                           for r in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip()
             for row in cells]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def block(pairs: Sequence[tuple[str, Any]]) -> str:
    width = max(len(k) for k, _ in pairs)
    out = []
    for key, value in pairs:
        if isinstance(value, dict | list):
            value = json.dumps(value, sort_keys=True)
        out.append(f"{key.ljust(width)}  {'-' if value is None else value}")
    return "\n".join(out)


def scores(values: dict[str, float]) -> str:
    return ", ".join(f"{k}={v:g}" for k, v in sorted(values.items())) or "-"


def dumps(data: Any) -> str:
    return json.dumps(data, indent=2, sort_keys=True, default=str)


def diff_text(d: dict[str, Any]) -> str:
    changed = ", ".join(d["changed_components"]) or "nothing"
    lines = [f"diff {d['from']} -> {d['to']}: changed {changed}"]
    for name in ("weights", "index"):
        if d[name]["changed"]:
            lines.append(f"{name}: {d[name]['from']} -> {d[name]['to']}")
    if d["prompt"]["changed"]:
        lines += ["prompt:", *("  " + line for line in d["prompt"]["diff"])]
    if "config" in d["changed_components"]:
        lines.append("config:")
        lines += [f"  + {k} = {json.dumps(v)}" for k, v in d["config"]["added"].items()]
        lines += [f"  - {k} = {json.dumps(v)}" for k, v in d["config"]["removed"].items()]
        lines += [f"  ~ {k}: {json.dumps(a)} -> {json.dumps(b)}"
                  for k, (a, b) in d["config"]["changed"].items()]
    return "\n".join(lines)


def incident_role(incident: dict[str, Any], version_id: str) -> str:
    """What part a version played in an incident, for an audit answer."""
    kind = "rehearsal" if incident.get("rehearsal") else "incident"
    if incident.get("bad_version") == version_id:
        return f"{kind} {incident['id']}: rolled back from this version"
    if incident.get("restored_version") == version_id:
        return f"{kind} {incident['id']}: rolled back to this version"
    return f"{kind} {incident['id']}"


def lineage_limit(given: str) -> int | None:
    """`--lineage N|all` (the HTTP API's `?lineage=`): how many ancestors to list."""
    if given.strip().lower() == "all":
        return None
    try:
        n = int(given)
    except ValueError:
        n = 0
    if n < 1:
        raise InvalidInput("lineage", f"{given!r} is not a count",
                           hint="give a number of ancestors to list (1 or more), or `all`")
    return n


def lineage_line(data: Mapping[str, Any]) -> str:
    """An audit bundle's lineage: the versions listed, nearest first, and how far the whole
    chain goes when they are not all of it."""
    listed = " <- ".join(x["version"] for x in data["lineage"])
    if not data.get("lineage_truncated"):
        return listed
    total = data["lineage_depth"] + 1
    return (f"{listed} <- ... ({len(data['lineage'])} of {total:,} listed; the chain starts "
            f"at {data['lineage_root']['version']}; `--lineage all` lists all of it)")


def incident_roles(incidents: Sequence[dict[str, Any]], version_id: str) -> str:
    return "; ".join(incident_role(i, version_id) for i in incidents) or "none"
