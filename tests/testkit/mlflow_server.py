"""A real MLflow tracking server for the mirror tests: MLflow from PyPI in a virtual
environment of its own (never in Playbook's: Playbook talks to MLflow over REST only), kept in
a cache directory between runs, started on a free port on 127.0.0.1 with a SQLite backend.
Without it the tests skip; under CI=true that fails the run (testkit.needs)."""

from __future__ import annotations

import fcntl
import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

from testkit.needs import missing
from testkit.ports import free_port
from testkit.waiting import until

MLFLOW = "mlflow==3.17.2"
CACHE = Path(os.environ.get("PLAYBOOK_TEST_CACHE", Path.home() / ".cache" / "playbook-tests"))


def mlflow_command() -> Path:
    """bin/mlflow of the cached environment, installed once (several workers wait on a lock)."""
    venv = CACHE / MLFLOW.replace("==", "-")
    mlflow = venv / "bin" / "mlflow"
    CACHE.mkdir(parents=True, exist_ok=True)
    with (CACHE / ".mlflow.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not mlflow.exists():
            try:
                subprocess.run([sys.executable, "-m", "venv", "--clear", str(venv)],
                               check=True, capture_output=True, timeout=300)
                subprocess.run([str(venv / "bin" / "pip"), "install", "--quiet",
                                "--disable-pip-version-check", MLFLOW],
                               check=True, capture_output=True, timeout=900)
            except (subprocess.SubprocessError, OSError) as exc:
                detail = getattr(exc, "stderr", b"") or b""
                missing(f"MLflow ({MLFLOW} from PyPI into {venv}): {exc} "
                        f"{detail.decode(errors='replace')[-500:]}")
    return mlflow


class Mlflow:
    def __init__(self, url: str) -> None:
        self.url = url
        self.http = httpx.Client(base_url=url, timeout=30)

    def call(self, method: str, path: str, **kwargs: Any) -> Any:
        answer = self.http.request(method, f"/api/2.0/mlflow/{path}", **kwargs)
        answer.raise_for_status()
        return answer.json()

    def create_model(self, name: str, sources: list[str]) -> list[str]:
        """A registered model with one version per source; answers their version numbers."""
        self.call("POST", "registered-models/create", json={"name": name})
        return [self.call("POST", "model-versions/create",
                          json={"name": name, "source": s})["model_version"]["version"]
                for s in sources]

    def run_with(self, **metrics: float) -> str:
        """A run in the default experiment with these metrics logged; answers its id."""
        run_id: str = self.call("POST", "runs/create",
                                json={"experiment_id": "0"})["run"]["info"]["run_id"]
        for key, value in metrics.items():
            self.call("POST", "runs/log-metric", json={"run_id": run_id, "key": key,
                                                        "value": value, "timestamp": 0,
                                                        "step": 0})
        return run_id

    def add_version(self, name: str, source: str, run_id: str | None = None,
                    tags: dict[str, str] | None = None) -> str:
        body: dict[str, Any] = {"name": name, "source": source}
        if run_id:
            body["run_id"] = run_id
        if tags:
            body["tags"] = [{"key": k, "value": v} for k, v in tags.items()]
        version: str = self.call("POST", "model-versions/create", json=body)["model_version"][
            "version"]
        return version

    def set_alias(self, name: str, alias: str, version: str) -> None:
        self.call("POST", "registered-models/alias",
                  json={"name": name, "alias": alias, "version": version})

    def alias(self, name: str, alias: str) -> str | None:
        answer = self.http.get("/api/2.0/mlflow/registered-models/alias",
                               params={"name": name, "alias": alias})
        if answer.status_code in (400, 404) and "not found" in answer.text.lower():
            return None  # MLflow answers an alias never set with 400 "... not found"
        answer.raise_for_status()
        version: str = answer.json()["model_version"]["version"]
        return version


@contextmanager
def mlflow_server(root: Path) -> Iterator[Mlflow]:
    command = mlflow_command()
    port = free_port()
    root.mkdir(parents=True, exist_ok=True)
    log = (root / "mlflow.log").open("w")
    proc = subprocess.Popen(
        [str(command), "server", "--backend-store-uri", f"sqlite:///{root / 'mlflow.db'}",
         "--default-artifact-root", str(root / "artifacts"), "--host", "127.0.0.1",
         "--port", str(port), "--workers", "1"],
        stdout=log, stderr=log, cwd=root)
    url = f"http://127.0.0.1:{port}"
    try:
        def healthy() -> bool:
            assert proc.poll() is None, (root / "mlflow.log").read_text()[-2000:]
            try:
                return httpx.get(f"{url}/health", timeout=5).status_code == 200
            except httpx.TransportError:
                return False

        until(healthy, "the MLflow server to answer /health", limit=300)
        yield Mlflow(url)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()
