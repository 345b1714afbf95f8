"""The two real evaluator adapters: an HTTP eval service and a local command.

Both receive the version as JSON (see core.serialize.version) and answer metric -> number,
either as a flat object or as {"scores": {...}}. Anything else is a clear EvaluatorError.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import math
import os
import shlex
import signal
import subprocess
from pathlib import Path
from typing import Any

import httpx

from core import serialize
from core.config import EvaluatorSpec, ModelPolicy
from core.domain import Version
from core.errors import EvaluatorError
from core.ports import Evaluator, EvaluatorFactory


def parse_scores(data: Any, source: str) -> dict[str, float]:
    if isinstance(data, dict) and isinstance(data.get("scores"), dict):
        data = data["scores"]
    if not isinstance(data, dict) or not data:
        raise EvaluatorError(f"{source} answered {str(data)[:200]!r}, not scores",
                             hint='answer a JSON object such as {"scores": {"accuracy": 0.91}}')
    scores: dict[str, float] = {}
    for key, value in data.items():
        if isinstance(value, bool) or not isinstance(value, int | float) \
                or not math.isfinite(value):
            raise EvaluatorError(f"{source} gave {key}={value!r}, which is not a finite number")
        scores[str(key)] = float(value)
    return scores


class HttpEvaluator:
    """`timeout_s` is a deadline for the whole exchange (connecting, sending, every read):
    httpx's timeouts are per operation, so a service dripping a byte at a time would never
    trip them; the call runs under asyncio's `wait_for` instead."""

    def __init__(self, url: str, timeout_s: float) -> None:
        self.url = url
        self.timeout_s = timeout_s

    def describe(self) -> str:
        return f"http {self.url}"

    async def _post(self, payload: dict[str, Any]) -> httpx.Response:
        async with httpx.AsyncClient(timeout=self.timeout_s) as client:
            response = await client.post(self.url, json=payload)
            await response.aread()
            return response

    def evaluate(self, version: Version) -> dict[str, float]:
        payload = {"model": version.model, "version": serialize.version(version)}
        try:
            response = asyncio.run(asyncio.wait_for(self._post(payload), self.timeout_s))
        except (TimeoutError, httpx.TimeoutException) as exc:
            raise EvaluatorError(f"eval service {self.url} did not answer within "
                                 f"{self.timeout_s:g} s",
                                 hint="raise evaluator.timeout_s or check the service") from exc
        except httpx.HTTPError as exc:
            raise EvaluatorError(f"eval service {self.url} is unreachable: {exc}",
                                 hint="check that it runs and the URL in playbook.toml") from exc
        if response.status_code >= 400:
            raise EvaluatorError(f"eval service {self.url} answered HTTP "
                                 f"{response.status_code}: {response.text[:200]}")
        try:
            data = response.json()
        except ValueError as exc:
            raise EvaluatorError(f"eval service {self.url} answered non-JSON: "
                                 f"{response.text[:200]!r}") from exc
        return parse_scores(data, f"eval service {self.url}")


class CommandEvaluator:
    """Runs a local command: version JSON on stdin, scores JSON on stdout."""

    def __init__(self, command: str, timeout_s: float, cwd: Path | None = None) -> None:
        self.command = command
        self.timeout_s = timeout_s
        self.cwd = cwd

    def describe(self) -> str:
        return f"command {self.command!r}"

    def evaluate(self, version: Version) -> dict[str, float]:
        """The command runs in a process group of its own: at the deadline the whole group is
        killed, whatever it started included."""
        payload = json.dumps(serialize.version(version))
        try:
            proc = subprocess.Popen(shlex.split(self.command), stdin=subprocess.PIPE,
                                    stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                    cwd=self.cwd, start_new_session=True)
        except FileNotFoundError as exc:
            raise EvaluatorError(f"eval command {self.command!r} not found",
                                 hint="fix evaluator.command in playbook.toml") from exc
        try:
            stdout, stderr = proc.communicate(payload, timeout=self.timeout_s)
        except subprocess.TimeoutExpired as exc:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.communicate()
            raise EvaluatorError(f"eval command {self.command!r} ran over "
                                 f"{self.timeout_s:g} s and was stopped, with everything "
                                 "it started") from exc
        if proc.returncode != 0:
            tail = stderr.strip().splitlines()[-3:]
            raise EvaluatorError(f"eval command {self.command!r} exited {proc.returncode}: "
                                 + " | ".join(tail))
        try:
            data = json.loads(stdout)
        except ValueError as exc:
            raise EvaluatorError(f"eval command {self.command!r} printed non-JSON: "
                                 f"{stdout[:200]!r}") from exc
        return parse_scores(data, f"eval command {self.command!r}")


def evaluator_for(spec: EvaluatorSpec | None, base_dir: Path | None = None) -> Evaluator | None:
    if spec is None:
        return None
    if spec.http is not None:
        return HttpEvaluator(spec.http, spec.timeout_s)
    assert spec.command is not None
    return CommandEvaluator(spec.command, spec.timeout_s, base_dir)


def factory(base_dir: Path | None) -> EvaluatorFactory:
    """The EvaluatorFactory the play context takes: policy -> its evaluator (cached)."""
    cache: dict[str, Evaluator | None] = {}

    def make(policy: ModelPolicy) -> Evaluator | None:
        if policy.name not in cache:
            cache[policy.name] = evaluator_for(policy.evaluator, base_dir)
        return cache[policy.name]

    return make
