"""`playbook import mlflow --uri URL --name NAME [--model MODEL]`: adopt an MLflow registered
model (core/plays/adopt.py): its versions become Playbook versions, its production alias the
production tag. Idempotent: running it again registers only what is new."""

from __future__ import annotations

import argparse

from bot.bootstrap import App
from bot.mlflow import Mlflow
from bot.shared.render import Out
from core.plays.adopt import adopt, describe


def cmd_import_mlflow(args: argparse.Namespace, app: App) -> Out:
    model = args.model or args.name
    app.config.model(model)  # declared, before anything is read
    source = Mlflow(args.uri)
    try:
        versions = source.versions(args.name)
        aliases = source.aliases(args.name)
    finally:
        source.close()
    adopted = adopt(app.ctx, model=model, registry=f"MLflow {args.name}", versions=versions,
                    aliases=aliases, actor=app.settings.actor, owner=args.owner)
    data = {"model": model, "versions": [{"mlflow_version": n, "version": vid, "created": c}
                                         for n, vid, c in adopted.registered],
            "tags": [{"tag": t, "version": vid} for t, vid in adopted.tags_set],
            "not_imported": adopted.tags_left}
    return Out(data, describe(model, adopted))
