"""Content-addressed files for versions' heavy artifacts (weights, index snapshots).

Layout under `root`:
  blobs/sha256/<hex>                         the content, stored once however many versions use it
  versions/<model>/<version_id>/<name>.json  a version's reference: name, sha256, size
  users/sha256/<hex>/<key>                   one marker per reference, so deleting a version
                                             knows whether anyone else still uses a blob
                                             without reading every reference in the store
Every file appears atomically (temp file + os.replace), so a crash never leaves half a blob
under its final name. Bookkeeping runs under a lock file, so a put and a delete racing on one
blob cannot remove content that a new reference points at.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, TYPE_CHECKING

from core.domain import Artifact
from core.errors import InvalidInput, NotFound, StorageError
from core.ports import ArtifactStore

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows: single-process use only
    fcntl = None  # type: ignore[assignment]

CHUNK = 1024 * 1024


class FileArtifactStore:
    def __init__(self, root: Path | str) -> None:
        self.root = Path(root)

    def put(self, model: str, version_id: str, path: Path) -> Artifact:
        """Copy `path` in while hashing it, so a large file is read once and never held whole."""
        ref = self._ref_path(model, version_id, path.name)
        blobs = self.root / "blobs" / "sha256"
        blobs.mkdir(parents=True, exist_ok=True)
        try:
            source = open(path, "rb")  # noqa: SIM115 - closed by the with below
        except FileNotFoundError as exc:
            raise NotFound(f"artifact file {path} does not exist") from exc
        try:
            with source, _temp_in(blobs) as (tmp, sink):
                digest, size = _copy_hashing(source, sink)
                with self._locked():
                    self._forget(ref)  # a re-put under the same name replaces the old ref
                    _atomic_write(ref, json.dumps(
                        {"name": path.name, "sha256": digest, "size": size}).encode())
                    self._marker(digest, model, version_id, path.name).touch()
                    blob = blobs / digest
                    if not blob.exists():
                        os.replace(tmp, blob)
        except OSError as exc:
            raise StorageError(f"cannot store artifact {path}: {exc}",
                               hint=f"check space and permissions under {self.root}") from exc
        return Artifact(name=path.name, sha256=digest, size=size)

    def delete(self, model: str, version_id: str) -> int:
        """Drop a version's references; blobs nobody else references go too. Bytes freed."""
        folder = self._version_dir(model, version_id)
        freed = 0
        try:
            with self._locked():
                if not folder.is_dir():
                    return 0
                for ref in sorted(folder.glob("*.json")):
                    freed += self._forget(ref)
                shutil.rmtree(folder)
        except OSError as exc:
            raise StorageError(f"cannot delete artifacts of {model}@{version_id}: {exc}",
                               hint=f"check permissions under {self.root}") from exc
        return freed

    def path_of(self, model: str, version_id: str, name: str) -> Path | None:
        ref = self._ref_path(model, version_id, name)
        try:
            digest = json.loads(ref.read_text())["sha256"]
        except FileNotFoundError:
            return None
        blob = self.root / "blobs" / "sha256" / digest
        return blob if blob.is_file() else None

    def _forget(self, ref: Path) -> int:
        """Remove one reference (if any) and its blob if it was the last user; bytes freed."""
        try:
            record = json.loads(ref.read_bytes())
        except FileNotFoundError:
            return 0
        model, version_id = ref.parent.parent.name, ref.parent.name
        digest = record["sha256"]
        self._marker(digest, model, version_id, record["name"]).unlink(missing_ok=True)
        ref.unlink()
        users = self.root / "users" / "sha256" / digest
        if any(users.iterdir()):
            return 0
        users.rmdir()
        blob = self.root / "blobs" / "sha256" / digest
        size = blob.stat().st_size if blob.exists() else 0
        blob.unlink(missing_ok=True)
        return size

    def _marker(self, digest: str, model: str, version_id: str, name: str) -> Path:
        users = self.root / "users" / "sha256" / digest
        users.mkdir(parents=True, exist_ok=True)
        key = hashlib.sha256(f"{model}\0{version_id}\0{name}".encode()).hexdigest()
        return users / key

    def _version_dir(self, model: str, version_id: str) -> Path:
        for field, value in (("model", model), ("version", version_id)):
            if not value or value in (".", "..") or "/" in value or "\\" in value:
                raise InvalidInput(field, f"{value!r} cannot name a folder in the artifact store")
        return self.root / "versions" / model / version_id

    def _ref_path(self, model: str, version_id: str, name: str) -> Path:
        if not name or name in (".", "..") or "/" in name or "\\" in name:
            raise InvalidInput("artifact", f"{name!r} is not a file name")
        return self._version_dir(model, version_id) / f"{name}.json"

    @contextmanager
    def _locked(self) -> Iterator[None]:
        self.root.mkdir(parents=True, exist_ok=True)
        with open(self.root / ".lock", "a+b") as handle:
            if fcntl is not None:
                fcntl.flock(handle, fcntl.LOCK_EX)
            yield  # closing the file releases the lock


def _copy_hashing(source: IO[bytes], sink: IO[bytes]) -> tuple[str, int]:
    sha = hashlib.sha256()
    size = 0
    while chunk := source.read(CHUNK):
        sha.update(chunk)
        sink.write(chunk)
        size += len(chunk)
    sink.flush()
    os.fsync(sink.fileno())
    return sha.hexdigest(), size


@contextmanager
def _temp_in(folder: Path) -> Iterator[tuple[Path, IO[bytes]]]:
    """A temp file beside its destination (same file system, so os.replace is atomic);
    removed afterwards unless it was moved into place."""
    fd, name = tempfile.mkstemp(dir=folder, prefix=".incoming-")
    os.fchmod(fd, 0o644)  # mkstemp's 0600 would hide blobs from a serving process's user
    tmp = Path(name)
    try:
        with os.fdopen(fd, "wb") as sink:
            yield tmp, sink
    finally:
        tmp.unlink(missing_ok=True)


def _atomic_write(target: Path, data: bytes) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    with _temp_in(target.parent) as (tmp, sink):
        sink.write(data)
        sink.flush()
        os.fsync(sink.fileno())
        sink.close()
        os.replace(tmp, target)


if TYPE_CHECKING:  # mypy proves the store implements the port
    _implements: type[ArtifactStore] = FileArtifactStore
