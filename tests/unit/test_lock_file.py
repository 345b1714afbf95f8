"""requirements-dev.lock installs on any machine: every line pins a release by name and
version from the package index. A line such as `gunicorn @ file:///tmp/dl/...` (what
`pip freeze` writes for a wheel installed from a local file) works only on the machine that
had the file, and broke `make test` on a fresh one."""

from __future__ import annotations

import re
from pathlib import Path

LOCK = Path(__file__).resolve().parents[2] / "requirements-dev.lock"
PIN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*(\[[A-Za-z0-9,._-]+\])?==[A-Za-z0-9.+!-]+$")


def test_every_lock_line_is_a_pinned_release_from_the_index() -> None:
    lines = [line.strip() for line in LOCK.read_text(encoding="utf-8").splitlines()]
    pins = [line for line in lines if line and not line.startswith("#")]
    assert pins, "the lock file pins nothing"
    assert [line for line in pins if not PIN.match(line)] == []


def test_the_lock_pins_each_package_once() -> None:
    names = [line.split("==")[0].lower().replace("_", "-")
             for line in LOCK.read_text(encoding="utf-8").splitlines()
             if line and not line.startswith("#")]
    assert sorted(names) == sorted(set(names))
