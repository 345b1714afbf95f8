"""References that name a moving target. A weights or index reference without a digest is
the version's identity; if it names something that can change under it (a branch, `latest`, a
storage prefix, a registry alias), the same version id would stand for different bytes later.
Registration warns about such a reference, and refuses it where the model requires digests
(`require_digest`, on by default for `regulated` models)."""

from __future__ import annotations

import re

MOVING_REVISIONS = {"main", "master", "head", "latest", "trunk", "dev", "develop", "stable",
                    "production", "staging", "champion", "current", "prod"}


def moving(ref: str) -> str | None:
    """Why `ref` names a moving target, or None when it looks pinned."""
    text = ref.strip()
    lowered = text.lower()
    if lowered.startswith("models:/"):  # MLflow: models:/name/3 is pinned; /Production, @x not
        rest = text[len("models:/"):]
        if "@" in rest:
            return "an MLflow alias"
        tail = rest.rsplit("/", 1)[-1] if "/" in rest else ""
        return None if tail.isdigit() else "an MLflow stage, not a version number"
    if re.match(r"^(s3|gs|gcs|az|abfss?|hdfs)://", lowered) and lowered.endswith("/"):
        return "a storage prefix, whose objects can change"
    for sep in ("@", ":"):
        if sep in text and not lowered.startswith(("s3://", "gs://", "http://", "https://")):
            revision = text.rsplit(sep, 1)[1].lower()
            if revision in MOVING_REVISIONS:
                return f"the moving revision {sep}{revision}"
    if lowered.endswith(":latest") or lowered.endswith("/latest"):
        return "latest"
    return None

