"""What changed between two versions, component by component."""

from __future__ import annotations

from typing import Any

from fakes import T0

from core.diff import config_changes, diff_versions
from core.domain import Version
from core.identity import ArtifactRef, Components, version_id

SHA = "9f" * 32


def version(**components: Any) -> Version:
    c = Components(**components)
    return Version(model="chat", id=version_id(c), components=c, owner="o", parent_id=None,
                   reason="r", scores={}, eval_source="", created_at=T0)


def test_config_changes_are_flattened_to_dotted_keys() -> None:
    old = {"temperature": 0.2, "tools": {"search": True, "code": {"timeout": 5}}, "stop": ["x"],
           "gone": 1, "empty": {}}
    new = {"temperature": 0.2, "tools": {"search": False, "code": {"timeout": 5, "mem": 2}},
           "stop": ["x", "y"], "empty": {"now": 1}}
    assert config_changes(old, new) == {
        "added": {"empty.now": 1, "tools.code.mem": 2},
        "removed": {"empty": {}, "gone": 1},
        "changed": {"stop": [["x"], ["x", "y"]], "tools.search": [True, False]},
    }
    assert config_changes(None, None) == {"added": {}, "removed": {}, "changed": {}}
    assert config_changes(None, {"a": 1})["added"] == {"a": 1}


def test_identical_versions_differ_in_nothing() -> None:
    v = version(prompt="p", config={"a": 1}, weights=ArtifactRef("ft:1"))
    diff = diff_versions(v, v)
    assert diff["changed_components"] == []
    assert diff["prompt"] == {"changed": False, "diff": []}
    assert diff["config"] == {"added": {}, "removed": {}, "changed": {}}


def test_every_component_is_compared() -> None:
    old = version(prompt="line one\nline two", config={"t": 1}, weights=ArtifactRef("ft:1"),
                  index=ArtifactRef("idx", SHA))
    new = version(prompt="line one\nline 2", config={"t": 2}, weights=ArtifactRef("ft:2", SHA))

    diff = diff_versions(old, new)

    assert diff["changed_components"] == ["weights", "prompt", "config", "index"]
    assert (diff["from"], diff["to"]) == (old.short, new.short)
    assert diff["weights"] == {"changed": True, "from": "ft:1",
                               "to": f"ft:2 (sha256 {SHA[:12]})"}
    assert diff["index"] == {"changed": True, "from": f"idx (sha256 {SHA[:12]})", "to": None}
    lines = diff["prompt"]["diff"]
    assert lines[:2] == [f"--- {old.short}", f"+++ {new.short}"]
    assert "-line two" in lines and "+line 2" in lines and " line one" in lines
    assert diff["config"]["changed"] == {"t": [1, 2]}


def test_a_digest_alone_is_a_change() -> None:
    a = version(weights=ArtifactRef("ft:1"))
    b = version(weights=ArtifactRef("ft:1", SHA))
    assert diff_versions(a, b)["changed_components"] == ["weights"]


def test_a_config_key_added_or_removed_is_a_config_change() -> None:
    a = version(prompt="p", config={"t": 1})
    b = version(prompt="p", config={"t": 1, "max_tokens": 256})
    assert diff_versions(a, b)["changed_components"] == ["config"]
    assert diff_versions(b, a)["changed_components"] == ["config"]
    assert diff_versions(b, a)["config"]["removed"] == {"max_tokens": 256}
    assert diff_versions(version(prompt="p"), a)["changed_components"] == ["config"]
