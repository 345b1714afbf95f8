"""Reading an MLflow registered model over its REST API (httpx; no mlflow package): its
versions with their source, run and tags, the metrics of their runs, and its aliases."""

from __future__ import annotations

from typing import Any

import httpx

from core.errors import NotFound, PlaybookError
from core.mirror import models_uri
from core.plays.adopt import ForeignVersion


class MlflowUnreachable(PlaybookError):
    code = "MLFLOW_FAILED"


class Mlflow:
    def __init__(self, uri: str, timeout_s: float = 30.0) -> None:
        self.uri = uri.rstrip("/")
        self._http = httpx.Client(base_url=self.uri, timeout=timeout_s)

    def close(self) -> None:
        self._http.close()

    def _get(self, path: str, **params: Any) -> Any:
        try:
            answer = self._http.get(f"/api/2.0/mlflow/{path}", params=params)
        except httpx.HTTPError as exc:
            raise MlflowUnreachable(f"MLflow at {self.uri} did not answer: "
                                    f"{exc or type(exc).__name__}",
                                    hint="check --uri and that the tracking server runs") \
                from exc
        if answer.status_code in (400, 404) and "RESOURCE_DOES_NOT_EXIST" in answer.text:
            raise NotFound(f"MLflow at {self.uri} has no {params.get('name', path)!r}",
                           hint="the registered model's name, as MLflow shows it")
        if not answer.is_success:
            raise MlflowUnreachable(f"MLflow answered {answer.status_code} to {path}: "
                                    f"{answer.text[:300]}")
        return answer.json()

    def aliases(self, name: str) -> dict[str, str]:
        model = self._get("registered-models/get", name=name)["registered_model"]
        return {a["alias"]: str(a["version"]) for a in model.get("aliases", [])}

    def versions(self, name: str) -> list[ForeignVersion]:
        found: list[ForeignVersion] = []
        token = None
        while True:
            params: dict[str, Any] = {"filter": f"name='{name}'", "max_results": 200}
            if token:
                params["page_token"] = token
            page = self._get("model-versions/search", **params)
            for v in page.get("model_versions", []):
                run = v.get("run_id") or None
                found.append(ForeignVersion(
                    number=str(v["version"]), weights_ref=models_uri(name, v["version"]),
                    source=v.get("source", ""), run_id=run, owner=v.get("user_id") or None,
                    scores=self._metrics(run) if run else {},
                    tags={t["key"]: t["value"] for t in v.get("tags", [])}))
            token = page.get("next_page_token")
            if not token:
                return found

    def _metrics(self, run_id: str) -> dict[str, float]:
        run = self._get("runs/get", run_id=run_id)["run"]
        return {m["key"]: float(m["value"]) for m in run.get("data", {}).get("metrics", [])}
