"""CLI for the deploy gate and play 2's canary: `gate`, `canary`, `promote --canary 5%`, and
`--override REASON` on promote and approve. Local mode runs the same code as the HTTP API;
the renderers here also print the remote CLI's answers, so both read the same."""

from __future__ import annotations

import argparse
from typing import Any

from bot.bootstrap import App
from bot.cli import promotion
from bot.shared.render import Out, block, table, when
from core import serialize
from core.errors import InvalidInput, Refused
from core.plays import canary, canary_watch
from core.plays.gate import deploy_gate


def fraction(text: str) -> float:
    """`5%` or `0.05` -> 0.05."""
    raw = text.strip()
    try:
        value = float(raw.removesuffix("%")) / (100 if raw.endswith("%") else 1)
    except ValueError:
        raise InvalidInput("canary", f"{text!r} is not a share of traffic",
                           hint="e.g. --canary 5% or --canary 0.05") from None
    if not 0 < value < 1:
        raise InvalidInput("canary", f"{text} is not between 0% and 100% (exclusive)")
    return value


def gate_out(data: dict[str, Any]) -> Out:
    """Exit non-zero when the gate says no, so a CI step is one line."""
    if not data["allowed"]:
        raise Refused(f"gate: {data['version']} may not be deployed: "
                      + "; ".join(data["reasons"]), hint="see `playbook gate --help`")
    checks = data["checks"]
    extra = (f"; {checks['metric']}={checks['candidate_score']:g}" if "metric" in checks
             else " (it is production)")
    return Out(data, f"gate: {data['short']} may be deployed{extra}")


def canary_text(data: dict[str, Any]) -> str:
    head = block([("canary", f"{data['short']} at {data['fraction']:.2%} of traffic"),
                  ("since", f"{when(data['started_at'])} by {data['started_by']}"),
                  ("state", "running" if data["active"] else
                   f"not running (ended {when(data['ended_at'])})" if data["ended_at"]
                   else "not running (production reached it)")])
    c = data.get("comparison")
    if not c:
        return head
    rows = [[name, a["version"][:12], a["n"], a["errors"],
             "-" if a["error_rate"] is None else f"{a['error_rate']:.2%}",
             a["latency_p50"], a["latency_p95"], a["feedback_mean"]]
            for name, a in (("canary", c["canary"]), ("production", c["production"]))]
    verdict = {"insufficient": "not enough data yet", "ok": "no worse than production",
               "worse": "CLEARLY WORSE than production"}[c["verdict"]]
    lines = [head, f"verdict     {verdict}", *(f"  - {r}" for r in c["reasons"]),
             table(["arm", "version", "n", "errors", "error rate", "p50 ms", "p95 ms",
                    "feedback"], rows)]
    return "\n".join(lines)


def promote_text(data: dict[str, Any]) -> str:
    gate = data["gate"]
    line = f"gate: {gate['metric']}={gate['candidate_score']:g}" + (
        f" vs production {gate['production_score']:g} ({gate['delta']:+g})"
        if gate.get("delta") is not None else " (no production yet)")
    parts = []
    if data.get("canary"):
        parts.append(f"canary -> {data['version']} at {data['canary']['fraction']:.2%} of "
                     f"traffic; watch it with `playbook canary {data['canary']['model']}`")
    if data.get("event") and not data.get("canary"):
        parts.append(f"promoted {data['version']} to production (revision "
                     f"{data['event']['revision']})")
    if data.get("request"):
        r = data["request"]
        parts.append(f"approval requested: {r['id']} needs {r['required']} approver(s) other "
                     f"than {r['requester']}, by {when(r['expires_at'])} UTC\n"
                     f"approve with: playbook approve {r['id']}")
    if data.get("overridden"):
        parts.append("the canary was worse; promoted anyway with the override recorded")
    return "\n".join([*parts, line])


def cmd_gate(args: argparse.Namespace, app: App) -> Out:
    return gate_out(deploy_gate(app.ctx, args.model, args.version))


def cmd_canary(args: argparse.Namespace, app: App) -> Out:
    if args.stop:
        canary.stop(app.ctx, model=args.model, actor=app.settings.actor)
    seen = canary_watch.view(app.ctx, args.model)
    data = seen.to_json()
    return Out(data, canary_text(data))


def cmd_promote(args: argparse.Namespace, app: App) -> Out:
    """`promote` as before, plus a canary first (--canary) and the canary check."""
    if args.canary is not None:
        started = canary.start(app.ctx, model=args.model,
                                    version=args.version, fraction=fraction(args.canary),
                                    actor=app.settings.actor, reason=args.reason or "",
                                    expected_revision=args.expect_revision)
        data = {"version": started.version.short, "gate": started.gate, "run": started.run_id,
                "event": serialize.event(started.event) if started.event else None,
                "request": serialize.approval(started.request) if started.request else None,
                "canary": canary_watch.CanaryView(started.state, True, None).to_json()}
        return Out(data, promote_text(data))
    return promotion.cmd_promote(args, app)
