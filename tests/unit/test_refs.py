"""Which references name a moving target (core/refs.py), and what registration does with
one: a warning, or a refusal where the model requires digests (regulated by default)."""

from __future__ import annotations

import pytest

from core.refs import moving


@pytest.mark.parametrize("ref", [
    "hf://acme/support-llama@main", "github.com/acme/prompts@master", "acme/model:latest",
    "registry.internal/acme/embedder:latest", "s3://acme-models/support/", "gs://b/idx/",
    "models:/support-bot/Production", "models:/support-bot@champion", "acme/model@HEAD",
])
def test_moving_targets_are_named(ref: str) -> None:
    assert moving(ref) is not None, ref


@pytest.mark.parametrize("ref", [
    "hf://acme/support-llama@3f9a1c2", "ft:gpt-4o-mini:acme:support:9f3",
    "s3://acme-models/support/weights-2026-12-01.safetensors", "models:/support-bot/7",
    "acme/model:v1.4.2", "https://acme.example/models/w.bin", "s3://acme/idx/2024-12-01",
])
def test_pinned_references_pass(ref: str) -> None:
    assert moving(ref) is None, ref
