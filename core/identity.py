"""Composite identity: a version id is derived from its content and nothing else.

The four things that change a model's behaviour (weights, prompt, config, retrieval index) are
put in one canonical JSON form and hashed. Key order and number formatting in the config do not
change the id; everything else does.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from dataclasses import dataclass
from typing import Any

from core.errors import Ambiguous, InvalidInput

HEX64 = re.compile(r"^[0-9a-f]{64}$")
HEX_PREFIX = re.compile(r"^[0-9a-f]{8,64}$")
MIN_PREFIX = 8
SHORT = 12


@dataclass(frozen=True)
class ArtifactRef:
    """A reference to heavy content (a fine-tune id, an artifact URI) with an optional digest."""

    ref: str
    sha256: str | None = None

    def canonical(self) -> dict[str, Any]:
        return {"ref": self.ref, "sha256": self.sha256}


@dataclass(frozen=True)
class Components:
    weights: ArtifactRef | None = None
    prompt: str | None = None
    config: dict[str, Any] | None = None
    index: ArtifactRef | None = None

    def __post_init__(self) -> None:
        if self.weights is None and self.prompt is None and self.config is None \
                and self.index is None:
            raise InvalidInput(
                "components", "at least one of weights, prompt, config or index is required")
        for name, art in (("weights", self.weights), ("index", self.index)):
            if art is None:
                continue
            if not art.ref.strip():
                raise InvalidInput(f"{name}.ref", "must not be empty")
            if art.sha256 is not None and not HEX64.match(art.sha256):
                raise InvalidInput(f"{name}.sha256", "must be 64 lowercase hex characters")
        if self.config is not None:
            canonical_config(self.config)  # raises on what JSON cannot hold
        try:
            canonical_json(self.canonical()).encode()
        except UnicodeEncodeError as exc:  # a lone surrogate, e.g. from a JSON "\ud800" escape
            raise InvalidInput("components", "text must be valid Unicode (found a lone "
                               "surrogate character)") from exc

    def canonical(self) -> dict[str, Any]:
        return {
            "weights": self.weights.canonical() if self.weights else None,
            "prompt": self.prompt,
            "config": canonical_config(self.config) if self.config is not None else None,
            "index": self.index.canonical() if self.index else None,
        }

    def to_json(self) -> dict[str, Any]:
        """The stored form: the canonical form itself, so it round-trips to the same id."""
        return self.canonical()

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Components:
        def art(d: dict[str, Any] | None) -> ArtifactRef | None:
            return ArtifactRef(d["ref"], d.get("sha256")) if d else None

        return cls(weights=art(data.get("weights")), prompt=data.get("prompt"),
                   config=data.get("config"), index=art(data.get("index")))


def _canonical_value(value: Any, path: str) -> Any:
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        if math.isnan(value) or math.isinf(value):
            raise InvalidInput(path, "NaN and infinity cannot be part of a config")
        if value.is_integer():
            return int(value)  # 1, 1.0 and 1e0 are the same number (1e19 and 10**19 too)
        return value  # repr() of a float is the shortest round-tripping form
    if isinstance(value, dict):
        out: dict[str, Any] = {}
        for k, v in value.items():
            if not isinstance(k, str):
                raise InvalidInput(path, f"config keys must be strings, got {k!r}")
            out[k] = _canonical_value(v, f"{path}.{k}")
        return out
    if isinstance(value, list | tuple):
        return [_canonical_value(v, f"{path}[{i}]") for i, v in enumerate(value)]
    raise InvalidInput(path, f"{type(value).__name__} is not a JSON value")


def canonical_config(config: dict[str, Any]) -> dict[str, Any]:
    if not isinstance(config, dict):
        raise InvalidInput("config", "must be a JSON object")
    result = _canonical_value(config, "config")
    assert isinstance(result, dict)
    return result


def canonical_json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                      allow_nan=False)


def version_id(components: Components) -> str:
    """sha256 over the canonical components: the same content always gives the same id."""
    return hashlib.sha256(canonical_json(components.canonical()).encode()).hexdigest()


def short(model: str, vid: str) -> str:
    return f"{model}@{vid[:SHORT]}"


def parse_version_ref(text: str, model: str | None = None) -> tuple[str, str]:
    """Split `MODEL@prefix` (or a bare prefix with `model` known) into (model, prefix)."""
    text = text.strip()
    if "@" in text:
        m, _, prefix = text.partition("@")
        if model is not None and m != model:
            raise InvalidInput("version", f"{text!r} belongs to model {m!r}, not {model!r}")
        model = m
    else:
        prefix = text
    if not model:
        raise InvalidInput("version", f"{text!r} names no model",
                           hint="write it as MODEL@<hex>, e.g. chat@1a2b3c4d")
    prefix = prefix.lower()
    if not HEX_PREFIX.match(prefix):
        raise InvalidInput("version", f"{text!r} is not a version id",
                           hint=f"give at least {MIN_PREFIX} hex characters, e.g. {model}@1a2b3c4d")
    return model, prefix


def pick_unique(model: str, prefix: str, matches: list[str]) -> str:
    """Resolve a prefix against the ids that start with it."""
    from core.errors import NotFound

    if not matches:
        raise NotFound(f"no version {model}@{prefix} is registered",
                       hint=f"list them with `playbook versions {model}`")
    if len(matches) > 1:
        shown = ", ".join(short(model, m) for m in sorted(matches)[:5])
        raise Ambiguous(f"{model}@{prefix} matches several versions: {shown}",
                        hint="give more hex characters")
    return matches[0]
