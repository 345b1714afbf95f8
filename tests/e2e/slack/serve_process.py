"""`playbook serve` as a real process: started with the test workspace, waited for until it
answers (or exits), stopped the way an operator stops it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from datetime import datetime
from pathlib import Path
from typing import IO

import httpx
from testkit import faketime, needs
from testkit.waiting import until

import bot

ROOT = str(Path(bot.__file__).resolve().parent.parent)


def serve(config: Path, home: Path, actor: str, env: dict[str, str], *extra: str,
          clock: datetime | None = None, stderr: IO[str] | int = subprocess.PIPE
          ) -> subprocess.Popen[str]:
    """`clock`: the process runs under libfaketime, its clock starting at that instant."""
    base = dict(os.environ)
    if clock is not None:
        try:
            base = faketime.environment(faketime.starting_at(clock, base), base)
        except (ImportError, FileNotFoundError) as exc:
            needs.missing(f"libfaketime ({exc}; pip install -e '.[dev]')")
    return subprocess.Popen(
        [sys.executable, "-m", "bot.cli.main", "--config", str(config), "--home",
         str(home), "--as", actor, "serve", *extra],
        env={**base, "PYTHONPATH": ROOT, **env}, stdout=subprocess.DEVNULL
        if stderr is not subprocess.PIPE else subprocess.PIPE, stderr=stderr, text=True,
        cwd=config.parent)


def wait_answering(proc: subprocess.Popen[str], url: str) -> httpx.Response:
    """The first answer of `url` (any status), once the server is up; fails if it exits."""
    answered: list[httpx.Response] = []

    def up() -> bool:
        assert proc.poll() is None, f"playbook serve exited: {proc.communicate()[1][-3000:]}"
        try:
            answered.append(httpx.get(url))
        except httpx.TransportError:
            return False
        return True

    until(up, f"playbook serve to answer {url}")
    return answered[-1]


def stop(proc: subprocess.Popen[str]) -> str:
    """Ctrl-C, as in a terminal; answers what it wrote on stderr."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGINT)
    try:
        return proc.communicate(timeout=60)[1]
    except subprocess.TimeoutExpired:
        proc.kill()
        return proc.communicate()[1]
