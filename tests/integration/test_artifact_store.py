"""FileArtifactStore: content-addressed, deduplicated, and careful about shared blobs."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from core.domain import Artifact
from core.errors import InvalidInput, NotFound
from storage.artifacts import FileArtifactStore


def _file(folder: Path, name: str, content: bytes) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_bytes(content)
    return path


def _blobs(root: Path) -> list[Path]:
    return sorted(p for p in (root / "blobs" / "sha256").iterdir()
                  if not p.name.startswith("."))


def test_put_stores_by_digest_and_path_of_finds_it(tmp_path: Path) -> None:
    store = FileArtifactStore(tmp_path / "store")
    content = b"weights" * 300_000  # bigger than one read chunk
    artifact = store.put("chat", "v1", _file(tmp_path / "in", "weights.bin", content))
    digest = hashlib.sha256(content).hexdigest()
    assert artifact == Artifact("weights.bin", digest, len(content))
    found = store.path_of("chat", "v1", "weights.bin")
    assert found == tmp_path / "store" / "blobs" / "sha256" / digest
    assert found.read_bytes() == content
    assert found.stat().st_mode & 0o777 == 0o644  # readable by a serving process's user
    assert store.path_of("chat", "v1", "other.bin") is None
    assert store.path_of("chat", "v2", "weights.bin") is None
    # no temp files left behind
    assert [p.name for p in (tmp_path / "store" / "blobs" / "sha256").iterdir()] == [digest]


def test_same_content_is_stored_once(tmp_path: Path) -> None:
    store = FileArtifactStore(tmp_path / "store")
    a = store.put("chat", "v1", _file(tmp_path / "a", "w.bin", b"same"))
    b = store.put("chat", "v2", _file(tmp_path / "b", "renamed.bin", b"same"))
    c = store.put("other", "v1", _file(tmp_path / "c", "w.bin", b"same"))
    assert a.sha256 == b.sha256 == c.sha256
    assert len(_blobs(tmp_path / "store")) == 1


def test_delete_keeps_blobs_other_versions_still_use(tmp_path: Path) -> None:
    store = FileArtifactStore(tmp_path / "store")
    shared = _file(tmp_path / "in", "shared.bin", b"s" * 100)
    store.put("chat", "v1", shared)
    store.put("chat", "v1", _file(tmp_path / "in", "own.bin", b"o" * 40))
    store.put("chat", "v2", shared)

    assert store.delete("chat", "v1") == 40  # only its own blob is freed
    assert store.path_of("chat", "v1", "shared.bin") is None
    kept = store.path_of("chat", "v2", "shared.bin")
    assert kept is not None and kept.read_bytes() == b"s" * 100
    assert len(_blobs(tmp_path / "store")) == 1

    assert store.delete("chat", "v2") == 100
    assert _blobs(tmp_path / "store") == []
    assert store.delete("chat", "v2") == 0  # deleting twice is harmless
    assert store.delete("chat", "never") == 0


def test_re_putting_a_name_replaces_its_reference(tmp_path: Path) -> None:
    store = FileArtifactStore(tmp_path / "store")
    store.put("chat", "v1", _file(tmp_path / "one", "w.bin", b"old"))
    new = store.put("chat", "v1", _file(tmp_path / "two", "w.bin", b"newer"))
    found = store.path_of("chat", "v1", "w.bin")
    assert found is not None and found.read_bytes() == b"newer"
    assert len(_blobs(tmp_path / "store")) == 1  # the old blob had no other user
    assert store.delete("chat", "v1") == new.size


def test_bad_input_is_refused(tmp_path: Path) -> None:
    store = FileArtifactStore(tmp_path / "store")
    with pytest.raises(NotFound):
        store.put("chat", "v1", tmp_path / "missing.bin")
    ok = _file(tmp_path, "ok.bin", b"x")
    for model, vid in (("..", "v1"), ("chat", "a/b"), ("", "v1")):
        with pytest.raises(InvalidInput):
            store.put(model, vid, ok)
    with pytest.raises(InvalidInput):
        store.path_of("chat", "v1", "../escape")
