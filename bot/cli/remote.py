"""`playbook --server URL --token T ...`: the same commands, run by a Playbook server.

For CI and laptops without database access. Connection errors, timeouts and 5xx answers are
retried a few times with backoff; every POST carries one Idempotency-Key across its retries,
so a registration whose answer was lost on the wire is answered again, not registered twice.
Arguments are parsed by the same parsers as local mode; answers print the same way.
"""

from __future__ import annotations

import argparse
import json
import random
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

import httpx

from bot.cli import audit as local_audit
from bot.cli.canary import canary_text, fraction, gate_out, promote_text
from bot.cli.registry import _version_text, registration_fields
from bot.settings import Environment
from bot.shared.render import Out, block, incident_roles, lineage_limit, lineage_line, scores, when
from bot.shared.timeparse import parse_time
from core.errors import InvalidInput, PlaybookError

RETRY_STATUS = {429, 500, 502, 503, 504}
BATCH = 5_000


class RemoteError(PlaybookError):
    """What the server answered when it said no, with its code, or why it could not answer."""

    def __init__(self, code: str, message: str, hint: str | None = None,
                 status: int | None = None) -> None:
        super().__init__(message, hint=hint)
        self.code = code
        self.status = status


class Remote:
    """A small httpx client: bearer token, bounded retries, idempotency keys on POSTs."""

    def __init__(self, server: str, token: str | None, *, attempts: int = 5,
                 backoff_s: float = 0.2, timeout_s: float = 120.0,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        self.client = httpx.Client(base_url=server.rstrip("/"), headers=headers,
                                   timeout=timeout_s)
        self.attempts = attempts
        self.backoff_s = backoff_s
        self.sleep = sleep

    def call(self, method: str, path: str, **kwargs: Any) -> Any:
        """The decoded JSON answer; a refusal raises RemoteError with the server's words."""
        headers = dict(kwargs.pop("headers", {}))
        if method == "POST":
            headers.setdefault("Idempotency-Key", uuid.uuid4().hex)
        for attempt in range(1, self.attempts + 1):
            try:
                answer = self.client.request(method, path, headers=headers, **kwargs)
            except httpx.TransportError as exc:
                if attempt == self.attempts:
                    raise RemoteError("UNREACHABLE", f"{self.client.base_url} did not answer "
                                      f"after {attempt} attempts: {exc!r}",
                                      hint="check --server / PLAYBOOK_SERVER and the "
                                           "network") from exc
                self._pause(attempt)
                continue
            if attempt < self.attempts and (answer.status_code in RETRY_STATUS or (
                    answer.status_code == 409 and _code(answer) == "IDEMPOTENCY_IN_PROGRESS")):
                self._pause(attempt, answer.headers.get("retry-after"))
                continue
            break
        if answer.status_code >= 400:
            raise _error(answer)
        return answer.json() if answer.content else None

    def _pause(self, attempt: int, retry_after: str | None = None) -> None:
        delay = self.backoff_s * 2 ** (attempt - 1) * (1 + random.random() / 2)
        if retry_after and retry_after.isascii() and retry_after.isdigit():
            delay = max(delay, min(float(retry_after), 30.0))
        self.sleep(delay)

    def close(self) -> None:
        self.client.close()


def _code(answer: httpx.Response) -> str | None:
    try:
        return str(answer.json()["error"]["code"])
    except (ValueError, KeyError, TypeError):
        return None


def _error(answer: httpx.Response) -> RemoteError:
    try:
        detail = answer.json()["error"]
        return RemoteError(detail["code"], detail["message"], detail.get("hint"),
                           answer.status_code)
    except (ValueError, KeyError, TypeError):
        return RemoteError(f"HTTP_{answer.status_code}",
                           f"the server answered {answer.status_code}: {answer.text[:200]}",
                           status=answer.status_code)


def server_of(args: argparse.Namespace, env: Environment) -> str | None:
    return args.server or env.server


def _model_path(model: str, *rest: str) -> str:
    return "/".join(["/v1/models", quote(model, safe=""), *rest])


def register(args: argparse.Namespace, remote: Remote) -> Out:
    if args.artifact:
        raise InvalidInput("artifact", "files are not uploaded over HTTP",
                           hint="keep artifacts where --weights/--index point; "
                                "--weights-file and --index-file send only name and sha256")
    if getattr(args, "mlflow_version", None) is not None:
        raise InvalidInput("mlflow-version", "needs playbook.toml's mirror, which is on the "
                                             "server", hint="over --server, give --weights "
                                                            "models:/NAME/N instead")
    fields = registration_fields(args)
    body = {k: fields[k] for k in ("components", "owner", "reason", "parent", "scores")
            if fields[k] is not None} | {"root": fields["root"]}
    data = remote.call("POST", _model_path(args.model, "versions"), json=body)
    return Out(data, _version_text(data, data["created"]))


def seen_revision(remote: Remote, model: str, tag: str = "production") -> int | None:
    """The revision of `tag` as this command sees it before it acts, sent along so the move
    is refused if the tag moved in between (someone else's rollback, say). None when the
    token may not read tags (no `resolve` scope) or the tag was never set."""
    try:
        found = remote.call("GET", _model_path(model, "tags", tag))
    except RemoteError as exc:
        if exc.status in (403, 404):
            return None
        raise
    return int(found["revision"]) if isinstance(found, dict) else None


def promote(args: argparse.Namespace, remote: Remote) -> Out:
    expected = args.expect_revision
    if expected is None and args.canary is None:  # a canary moves its own tag
        expected = seen_revision(remote, args.model)
    body = {"version": args.version, "reason": args.reason or "",
            "expected_revision": expected, "override_reason": args.override,
            "canary_fraction": fraction(args.canary) if args.canary is not None else None}
    data = remote.call("POST", _model_path(args.model, "promote"), json=body)
    return Out(data, promote_text(data))


def approve(args: argparse.Namespace, remote: Remote) -> Out:
    data = remote.call("POST", f"/v1/approvals/{quote(args.request, safe='')}/approve",
                       json={"override_reason": args.override})
    text = (f"approved: production -> {data['model']}@{data['version'][:12]} (approvers: "
            f"{', '.join(a['approver'] for a in data['approvals'])})" if data["event"] else
            f"approval recorded ({len(data['approvals'])}/{data['required']})")
    return Out(data, text)


def reject(args: argparse.Namespace, remote: Remote) -> Out:
    data = remote.call("POST", f"/v1/approvals/{quote(args.request, safe='')}/reject",
                       json={"reason": args.reason or ""})
    return Out(data, f"rejected {data['id']}; production unchanged")


def rollback(args: argparse.Namespace, remote: Remote) -> Out:
    expected = args.expect_revision if args.expect_revision is not None \
        else seen_revision(remote, args.model)
    body = {"to": args.to, "symptom": args.symptom or "", "expected_revision": expected}
    if args.detected_at:  # relative times ("20m ago") are read on this side, as local ones
        body["detected_at"] = parse_time(args.detected_at, "detected_at",
                                         datetime.now(UTC)).isoformat()
    d = remote.call("POST", _model_path(args.model, "rollback"), json=body)
    return Out(d, block([
        ("rolled back", f"{d['model']}@{d['bad_version'][:12]} -> "
                        f"{d['model']}@{d['restored_version'][:12]}"),
        ("incident", d["id"]), ("symptom", d["symptom"] or "-"), ("by", d["opened_by"]),
        ("time to rollback", f"{d['time_to_rollback_s']:.3f} s"),
        ("confirmation", f"{d['confirmation']} {scores(d['confirm_scores'])}".strip())]))


def audit(args: argparse.Namespace, remote: Remote) -> Out:
    if args.at:
        if not args.model:
            raise InvalidInput("model", "--at needs --model MODEL")
        at = parse_time(args.at, "at", datetime.now(UTC))
        d = remote.call("GET", _model_path(args.model, "at"), params={"time": at.isoformat()})
        v = d["version"]
        return Out(d, f"{d['model']} production at {when(d['at'])} UTC: "
                      + (v["short"] if v else "nothing (no production yet)"))
    if not args.request_id:
        raise InvalidInput("request_id", "give a request id, or --model M --at TIME")
    limit = lineage_limit(args.lineage)
    d = remote.call("GET", f"/v1/audit/{quote(args.request_id, safe='')}",
                    params={"lineage": "all" if limit is None else str(limit)})
    v = d["version"]
    return Out(d, block([
        ("request", d["request_id"]), ("served at", when(d["attribution"]["served_at"])),
        ("version", f"{v['short']} (owner {v['owner']})"), ("reason", v["reason"]),
        ("components", v["components"]), ("scores", scores(v["scores"])),
        ("lineage", lineage_line(d)),
        ("tag events", len(d["tag_events"])),
        ("incidents", incident_roles(d["incidents"], v["id"]))]))


def attribute(args: argparse.Namespace, remote: Remote) -> Out:
    """Batches of NDJSON; a bad record stops at its batch (earlier batches are stored, and
    re-sending them after a fix is harmless: known request ids are skipped)."""
    records = local_audit.read_records(args.file)
    totals = {"received": 0, "stored": 0, "duplicates": 0}
    for start in range(0, len(records), BATCH):
        chunk = records[start:start + BATCH]
        body = "".join(json.dumps(r) + "\n" for r in chunk)
        try:
            got = remote.call("POST", "/v1/attributions", content=body.encode(),
                              headers={"Content-Type": "application/x-ndjson"})
        except RemoteError as exc:
            if start:
                exc.message = f"{exc.message} (in the batch from record {start})"
                exc.hint = (f"records before {start} were stored; fix the file and send it "
                            "again: stored request ids are skipped")
            raise
        for key in totals:
            totals[key] += got[key]
    return Out(totals, f"stored {totals['stored']} attribution(s), {totals['duplicates']} "
                       "already known")


def gate(args: argparse.Namespace, remote: Remote) -> Out:
    return gate_out(remote.call("GET", "/v1/gate", params={"model": args.model,
                                                           "version": args.version}))


def canary(args: argparse.Namespace, remote: Remote) -> Out:
    data = remote.call("DELETE" if args.stop else "GET", _model_path(args.model, "canary"))
    return Out(data, canary_text(data))


HANDLERS: dict[str, Callable[[argparse.Namespace, Remote], Out]] = {
    "register": register, "promote": promote, "approve": approve, "reject": reject,
    "rollback": rollback, "audit": audit, "attribute": attribute, "gate": gate,
    "canary": canary,
}


def run(args: argparse.Namespace, server: str, env: Environment) -> Out:
    remote = Remote(server, args.token or env.token, attempts=env.remote_attempts)
    try:
        return HANDLERS[args.command](args, remote)
    finally:
        remote.close()
