"""Mirrors: the tag move goes where serving already looks. A model with
`mirror = { mlflow = "http://...", name = "registered-model" }` has every move of `production`
and `canary` set as the same alias on that MLflow registered model, by the `mirror` outbox
handler (bot/mirror.py): after the move committed, retried until MLflow takes it, never undoing
the move. A version knows its MLflow version from its weights reference `models:/NAME/N`
(`playbook register --mlflow-version N` writes that reference)."""

from __future__ import annotations

import re

from core.identity import Components

MIRRORED_TAGS = ("production", "canary")
MODELS_URI = re.compile(r"^models:/(?P<name>[^/@]+)/(?P<version>\d+)$")


def models_uri(name: str, version: int | str) -> str:
    return f"models:/{name}/{version}"


def mlflow_version(components: Components, name: str) -> str | None:
    """The MLflow version of registered model `name` these components are, if they say."""
    if components.weights is None:
        return None
    found = MODELS_URI.match(components.weights.ref.strip())
    if found is None or found.group("name") != name:
        return None
    return found.group("version")
