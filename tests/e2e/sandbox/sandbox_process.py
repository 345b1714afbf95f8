"""`playbook serve --sandbox --seed` as a real subprocess, on a free port, in a fresh home, with
examples/sandbox.toml: exactly what `make run` starts, minus the fixed port.

The `sandbox_server` fixture (conftest.py) is one of these; tests that need their own (a
restart, another --host) call `start_sandbox`. The page under test is `base_url + "/"`.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from testkit.ports import free_port
from testkit.waiting import LIMIT_S

ROOT = Path(__file__).resolve().parents[3]
EXAMPLE_CONFIG = ROOT / "examples" / "sandbox.toml"
START_TIMEOUT_S = LIMIT_S


def playbook_command() -> list[str]:
    script = Path(sys.executable).parent / "playbook"
    return [str(script)] if script.exists() else [sys.executable, "-m", "bot.cli.main"]


def clean_env(home: Path) -> dict[str, str]:
    """No Slack secrets, no database or config from the caller's shell."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("SLACK_", "PLAYBOOK_")) and k != "DATABASE_URL"}
    env["PLAYBOOK_USER"] = "sandbox-test"
    env["PYTHONUNBUFFERED"] = "1"
    return env


@dataclass
class SandboxServer:
    base_url: str
    home: Path
    config: Path
    port: int
    process: subprocess.Popen[str]
    log: Path
    http: httpx.Client = field(init=False)

    def __post_init__(self) -> None:
        self.http = httpx.Client(base_url=self.base_url, timeout=30)

    def output(self) -> str:
        """Everything the server printed so far (stdout and stderr together)."""
        return self.log.read_text(encoding="utf-8", errors="replace")

    def playbook(self, *args: str) -> subprocess.CompletedProcess[str]:
        """The local CLI on the sandbox's own registry (same --home and --config)."""
        return subprocess.run([*playbook_command(), "--home", str(self.home),
                               "--config", str(self.config), *args],
                              capture_output=True, text=True, timeout=60,
                              env=clean_env(self.home), check=False)

    def state(self, user: str) -> dict[str, Any]:
        answer = self.http.get("/sandbox/state", params={"user": user})
        answer.raise_for_status()
        found: dict[str, Any] = answer.json()
        return found

    def stop(self) -> None:
        self.http.close()
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)


def start_sandbox(tmp: Path, *extra: str, host: str = "127.0.0.1",
                  config: Path = EXAMPLE_CONFIG, flag: bool = True,
                  env: dict[str, str] | None = None) -> SandboxServer:
    """`flag=False` leaves --sandbox out: without Slack secrets, serve picks it by itself.
    `env`: variables set on top of the clean environment."""
    home = tmp / "sandbox-home"
    port = free_port()
    log = tmp / "sandbox-server.log"
    with log.open("w", encoding="utf-8") as out:
        process = subprocess.Popen(
            [*playbook_command(), "--home", str(home), "--config", str(config), "serve",
             *(["--sandbox"] if flag else []), "--seed", "--host", host, "--port", str(port),
             *extra],
            stdout=out, stderr=subprocess.STDOUT, text=True, env={**clean_env(home), **(env or {})},
            cwd=tmp)
    server = SandboxServer(base_url=f"http://127.0.0.1:{port}", home=home, config=config,
                           port=port, process=process, log=log)
    deadline = time.monotonic() + START_TIMEOUT_S
    while True:
        if process.poll() is not None:
            raise AssertionError(f"the sandbox exited with {process.returncode}:\n"
                                 f"{server.output()}")
        try:
            if server.http.get("/healthz", timeout=2).status_code == 200:
                # what the page does first: read the state, and the token changes must carry
                state = server.http.get("/sandbox/state")
                assert "page_token" in state.json(), f"{state.status_code} {state.text}"
                token = state.json()["page_token"]
                server.http.headers["X-Sandbox-Token"] = token
                return server
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline:
            server.stop()
            raise AssertionError(f"the sandbox did not start in {START_TIMEOUT_S:g} s:\n"
                                 f"{server.output()}")
        time.sleep(0.1)
