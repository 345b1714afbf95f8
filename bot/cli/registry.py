"""CLI for play 1 and 4 and for reading the registry: register, experiment, versions, show,
tags, history, diff."""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from pathlib import Path
from typing import Any

from bot.bootstrap import App
from bot.shared.render import Out, block, diff_text, scores, table, when
from core import queries, serialize
from core.commands import Register, StartExperiment
from core.errors import InvalidInput
from core.mirror import models_uri
from core.plays import register, start_experiment


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _read(path: str, field: str) -> str:
    try:
        return Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InvalidInput(field, f"cannot read {path}: {exc}") from exc


def _ref(ref: str | None, digest: str | None, file: str | None, field: str,
         artifacts: list[str]) -> dict[str, Any] | None:
    if file:
        path = Path(file)
        if not path.is_file():
            raise InvalidInput(f"{field}-file", f"{file} is not a readable file")
        actual = _sha256(path)
        if digest and digest != actual:
            raise InvalidInput(f"{field}-sha256", f"{file} has sha256 {actual}, not {digest}")
        artifacts.append(file)
        return {"ref": ref or path.name, "sha256": actual}
    if ref is None:
        if digest:
            raise InvalidInput(f"{field}-sha256", f"needs --{field} REF as well")
        return None
    return {"ref": ref, "sha256": digest}


def _scores(pairs: list[str] | None) -> dict[str, float] | None:
    if not pairs:
        return None
    out: dict[str, float] = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        try:
            if not sep or not name:
                raise ValueError
            out[name.strip()] = float(value)
        except ValueError:
            raise InvalidInput("score", f"{pair!r} is not METRIC=NUMBER",
                               hint="e.g. --score accuracy=0.91") from None
    return out


def config_assignments(pairs: list[str] | None) -> dict[str, Any]:
    """`--set a.b=1 --set name=x` -> {"a.b": 1, "name": "x"} (JSON values, else text)."""
    out: dict[str, Any] = {}
    for pair in pairs or []:
        key, sep, raw = pair.partition("=")
        if not sep or not key.strip():
            raise InvalidInput("set", f"{pair!r} is not KEY=VALUE", hint="e.g. --set "
                                                                          "temperature=0.2")
        try:
            out[key.strip()] = json.loads(raw)
        except ValueError:
            out[key.strip()] = raw
    return out


def registration(args: argparse.Namespace, app: App) -> dict[str, Any]:
    """The fields of a Register command, from the command line."""
    fields = registration_fields(args) | {"actor": app.settings.actor}
    number = getattr(args, "mlflow_version", None)
    if number is not None:
        mirror = app.config.model(args.model).mirror
        if mirror is None:
            raise InvalidInput("mlflow-version", f"{args.model} has no MLflow mirror",
                               hint='add mirror = { mlflow = "http://...", name = "..." } to '
                                    f"[models.{args.model}], or give --weights")
        if args.weights or args.weights_file:
            raise InvalidInput("mlflow-version", "give it or --weights, not both",
                               hint=f"--mlflow-version {number} is --weights "
                                    f"{models_uri(mirror.name, number)}")
        fields["components"]["weights"] = {"ref": models_uri(mirror.name, number),
                                           "sha256": args.weights_sha256}
    return fields


def registration_fields(args: argparse.Namespace) -> dict[str, Any]:
    """Everything of a registration but the actor (the remote CLI sends these over HTTP)."""
    artifacts = list(args.artifact or [])
    prompt = _read(args.prompt_file, "prompt-file") if args.prompt_file else args.prompt
    config_text = _read(args.model_config_file, "model-config-file") \
        if args.model_config_file else args.model_config
    config = None
    if config_text is not None:
        try:
            config = json.loads(config_text)
        except ValueError as exc:
            raise InvalidInput("model-config", f"not valid JSON: {exc}") from exc
    components = {
        "weights": _ref(args.weights, args.weights_sha256, args.weights_file, "weights",
                        artifacts),
        "prompt": prompt, "config": config,
        "index": _ref(args.index, args.index_sha256, args.index_file, "index", artifacts),
    }
    return {"model": args.model, "components": components, "owner": args.owner,
            "reason": args.reason, "parent": args.parent, "root": args.root,
            "scores": _scores(args.score), "artifacts": tuple(artifacts)}


def _version_text(data: dict[str, Any], created: bool | None = None) -> str:
    head = []
    if created is not None:
        head = [("registered" if created else "already registered (nothing changed)",
                 data["short"])]
    return block([*head, ("id", data["id"]), ("owner", data["owner"]),
                  ("parent", data["parent"][:12] if data["parent"] else "(root)"),
                  ("reason", data["reason"]), ("kind", data["kind"]),
                  ("experiment", data["experiment"]), ("scores", scores(data["scores"])),
                  ("eval", data["eval_source"]), ("created", when(data["created_at"])),
                  ("artifacts", ", ".join(a["name"] for a in data["artifacts"]) or "-")])


def cmd_register(args: argparse.Namespace, app: App) -> Out:
    result = register(Register.parse(**registration(args, app)), app.ctx)
    data = serialize.version(result.version) | {"created": result.created, "run": result.run_id,
                                                "warnings": list(result.warnings)}
    for warning in result.warnings:
        print(f"playbook: warning: {warning}", file=sys.stderr)
    return Out(data, _version_text(data, result.created))


def cmd_experiment(args: argparse.Namespace, app: App) -> Out:
    fields = registration(args, app) | {"name": args.name,
                                        "retention_days": args.retention_days,
                                        "config_set": config_assignments(args.config_set)}
    result = start_experiment(StartExperiment.parse(**fields), app.ctx)
    data = serialize.version(result.version) | {"created": result.created, "tag": result.tag,
                                                "run": result.run_id,
                                                "unpromotable": result.unpromotable or None}
    verdict = (f"no: {result.unpromotable}" if result.unpromotable else
               f"yes: playbook promote {result.version.model} {result.version.short}")
    text = _version_text(data, result.created) + \
        f"\ntag         {result.tag} -> {result.version.short}" \
        f"\nexpires     {when(data['expires_at'])}" \
        f"\npromotable  {verdict}"
    return Out(data, text)


def cmd_versions(args: argparse.Namespace, app: App) -> Out:
    found = queries.versions(app.ctx, args.model, limit=args.limit, kind=args.kind)
    rows = [[f.version.short, when(f.version.created_at), f.version.owner,
             scores(f.version.scores), ",".join(f.tags), f.version.reason[:40]] for f in found]
    data = [serialize.version(f.version) | {"tags": list(f.tags)} for f in found]
    return Out(data, table(["version", "created", "owner", "scores", "tags", "reason"], rows))


def cmd_show(args: argparse.Namespace, app: App) -> Out:
    found = queries.version(app.ctx, args.version)
    data = serialize.version(found.version) | {"tags": list(found.tags)}
    return Out(data, _version_text(data) + f"\ntags        {', '.join(found.tags) or '-'}")


def cmd_tags(args: argparse.Namespace, app: App) -> Out:
    tags = queries.tags(app.ctx, args.model)
    rows = [[t.name, t.version_id[:12], t.revision, when(t.moved_at)] for t in tags]
    return Out([serialize.tag(t) for t in tags],
               table(["tag", "version", "revision", "moved"], rows))


def cmd_history(args: argparse.Namespace, app: App) -> Out:
    events = queries.history(app.ctx, args.model, args.tag, limit=args.limit)
    rows = [[e.seq, when(e.at), e.tag, (e.from_version or "")[:12] or "-", e.to_version[:12],
             e.play, e.actor, ",".join(e.approvers) or "-", e.reason[:40]] for e in events]
    return Out([serialize.event(e) for e in events],
               table(["seq", "at", "tag", "from", "to", "play", "actor", "approvers", "reason"],
                     rows))


def cmd_diff(args: argparse.Namespace, app: App) -> Out:
    diff = queries.diff(app.ctx, args.old, args.new)
    return Out(diff, diff_text(diff))
