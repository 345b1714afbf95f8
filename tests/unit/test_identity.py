"""Composite identity: the id is the content, canonicalised, and nothing else."""

from __future__ import annotations

import json
import random
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.errors import Ambiguous, InvalidInput, NotFound
from core.identity import (
    ArtifactRef,
    Components,
    canonical_config,
    parse_version_ref,
    pick_unique,
    short,
    version_id,
)

SHA = "0123456789abcdef" * 4


def cid(config: dict[str, Any], **other: Any) -> str:
    return version_id(Components(config=config, **other))


# --- properties -----------------------------------------------------------------------------

text = st.text(st.characters(exclude_categories=["Cs"]), max_size=6)  # JSON-able strings
numbers = st.one_of(st.integers(min_value=-(2**70), max_value=2**70),
                    st.floats(allow_nan=False, allow_infinity=False))
leaves = st.one_of(st.none(), st.booleans(), numbers, text)
values = st.recursive(leaves, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.dictionaries(text, inner, max_size=4)), max_leaves=20)
configs = st.dictionaries(text, values, max_size=5)


def shuffled(value: Any, rnd: random.Random) -> Any:
    if isinstance(value, dict):
        items = [(k, shuffled(v, rnd)) for k, v in value.items()]
        rnd.shuffle(items)
        return dict(items)
    if isinstance(value, list):
        return [shuffled(v, rnd) for v in value]
    return value


def as_floats(value: Any) -> Any:
    """Every integer written as a float where that is the same number (1 -> 1.0)."""
    if isinstance(value, dict):
        return {k: as_floats(v) for k, v in value.items()}
    if isinstance(value, list):
        return [as_floats(v) for v in value]
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) < 2**1000 \
            and float(value) == value:
        return float(value)
    return value


def as_ints(value: Any) -> Any:
    """Every integral float written as an integer (1e0 -> 1)."""
    if isinstance(value, dict):
        return {k: as_ints(v) for k, v in value.items()}
    if isinstance(value, list):
        return [as_ints(v) for v in value]
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


@settings(max_examples=150, deadline=None)
@given(configs, st.randoms(use_true_random=False))
def test_key_order_does_not_change_the_id(config: dict[str, Any], rnd: random.Random) -> None:
    assert cid(shuffled(config, rnd)) == cid(config)


@settings(max_examples=150, deadline=None)
@given(configs)
def test_number_spelling_does_not_change_the_id(config: dict[str, Any]) -> None:
    assert cid(as_floats(config)) == cid(config) == cid(as_ints(config))


@settings(max_examples=150, deadline=None)
@given(configs, text)
def test_a_json_round_trip_keeps_the_id(config: dict[str, Any], prompt: str) -> None:
    c = Components(prompt=prompt, config=config,
                   weights=ArtifactRef("ft:1", SHA))
    through_json = Components.from_json(json.loads(json.dumps(c.to_json())))
    assert version_id(through_json) == version_id(c)
    config_through_json = json.loads(json.dumps(config))
    assert cid(config_through_json) == cid(config)


@settings(max_examples=150, deadline=None)
@given(configs, text, values)
def test_different_content_gives_a_different_id(config: dict[str, Any], key: str,
                                                value: Any) -> None:
    changed = dict(config)
    changed[key] = [value] if config.get(key) != [value] else [value, value]
    assert cid(changed) != cid(config)
    assert cid(config, prompt="") != cid(config)


@settings(max_examples=100, deadline=None)
@given(configs, configs)
def test_ids_agree_exactly_when_canonical_forms_agree(a: dict[str, Any],
                                                      b: dict[str, Any]) -> None:
    assert (cid(a) == cid(b)) == (canonical_config(a) == canonical_config(b))


# --- examples -------------------------------------------------------------------------------


def test_one_one_point_oh_and_one_e_zero_are_one_number() -> None:
    assert cid({"t": 1}) == cid({"t": 1.0}) == cid({"t": 1e0})
    assert cid({"t": 10**19}) == cid({"t": 1e19})
    assert cid({"t": 0}) == cid({"t": -0.0})
    assert cid({"t": 1.5}) != cid({"t": 1})


def test_a_boolean_is_not_a_number() -> None:
    assert cid({"stream": True}) != cid({"stream": 1})
    assert cid({"stream": False}) != cid({"stream": 0})


def test_tuples_are_lists_and_nesting_counts() -> None:
    assert cid({"a": (1, 2)}) == cid({"a": [1, 2]})
    assert cid({"a": [1, 2]}) != cid({"a": [2, 1]})
    assert cid({"a": {"b": 1}}) != cid({"a.b": 1})
    assert cid({}) != version_id(Components(prompt=""))


def test_every_component_is_part_of_the_id() -> None:
    base = dict(weights=ArtifactRef("ft:1"), prompt="p", config={"t": 1},
                index=ArtifactRef("idx:1"))
    ids = {version_id(Components(**base))}  # type: ignore[arg-type]
    for change in ({"weights": ArtifactRef("ft:2")}, {"weights": ArtifactRef("ft:1", SHA)},
                   {"weights": None}, {"prompt": "p2"}, {"prompt": None}, {"config": {"t": 2}},
                   {"config": None}, {"index": ArtifactRef("idx:2")}, {"index": None},
                   {"weights": ArtifactRef("idx:1"), "index": ArtifactRef("ft:1")}):
        ids.add(version_id(Components(**{**base, **change})))  # type: ignore[arg-type]
    assert len(ids) == 11
    assert all(len(i) == 64 for i in ids)


@pytest.mark.parametrize(("kwargs", "field"), [
    ({}, "components"),
    ({"weights": ArtifactRef("  ")}, "weights.ref"),
    ({"index": ArtifactRef("i", "ABC")}, "index.sha256"),
    ({"weights": ArtifactRef("w", SHA.upper())}, "weights.sha256"),
    ({"config": {"a": {"b": float("nan")}}}, "config.a.b"),
    ({"config": {"a": [1, float("inf")]}}, "config.a[1]"),
    ({"config": {"a": {1: "x"}}}, "config.a"),
    ({"config": {"a": {1, 2}}}, "config.a"),
    ({"config": ["not", "an", "object"]}, "config"),
    ({"prompt": "lone \ud800 surrogate"}, "components"),
    ({"config": {"k\udfff": 1}}, "components"),
])
def test_malformed_components_name_the_field(kwargs: dict[str, Any], field: str) -> None:
    with pytest.raises(InvalidInput) as err:
        Components(**kwargs)
    assert err.value.field == field


def test_the_stored_form_round_trips() -> None:
    c = Components(weights=ArtifactRef("ft:1", SHA), prompt="p", config={"b": 2.0, "a": [1e0]},
                   index=ArtifactRef("idx"))
    stored = c.to_json()
    assert stored["config"] == {"a": [1], "b": 2}
    assert version_id(Components.from_json(stored)) == version_id(c)
    assert json.loads(json.dumps(stored)) == stored


@pytest.mark.parametrize(("text", "model", "expected"), [
    ("chat@1a2b3c4d", None, ("chat", "1a2b3c4d")),
    (" chat@1A2B3C4D ", "chat", ("chat", "1a2b3c4d")),
    ("1a2b3c4d5e", "chat", ("chat", "1a2b3c4d5e")),
    ("chat@" + "a" * 64, None, ("chat", "a" * 64)),
])
def test_version_references(text: str, model: str | None, expected: tuple[str, str]) -> None:
    assert parse_version_ref(text, model) == expected


@pytest.mark.parametrize(("text", "model", "hint"), [
    ("1a2b3c4d", None, "MODEL@<hex>"),
    ("chat@1a2b3c4", None, "at least 8 hex"),
    ("chat@xyzxyzxyz", None, "chat@1a2b3c4d"),
    ("chat@" + "a" * 65, None, "hex"),
    ("ranker@1a2b3c4d", "chat", None),
])
def test_bad_version_references(text: str, model: str | None, hint: str | None) -> None:
    with pytest.raises(InvalidInput) as err:
        parse_version_ref(text, model)
    assert err.value.field == "version"
    if hint:
        assert hint in (err.value.hint or "")


def test_a_prefix_must_name_exactly_one_version() -> None:
    assert pick_unique("chat", "ab", ["ab12"]) == "ab12"
    with pytest.raises(NotFound):
        pick_unique("chat", "ab", [])
    with pytest.raises(Ambiguous) as err:
        pick_unique("chat", "abcdef12", ["abcdef12" + "1" * 56, "abcdef12" + "0" * 56])
    assert "chat@abcdef120000, chat@abcdef121111" in str(err.value)
    assert short("chat", "f" * 64) == "chat@ffffffffffff"
