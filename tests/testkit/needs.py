"""A tool a test needs from the machine: skip without it, except under `CI=true`, where CI
installs it (.ci/run) and its absence is a broken pipeline, not a reason to pass quietly."""

from __future__ import annotations

import os
import shutil
from typing import NoReturn

import pytest


def missing(what: str) -> NoReturn:
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"CI needs {what}")
    pytest.skip(f"{what} is missing")


def command(name: str, install: str) -> str:
    """The path of `name` on PATH, or skip (fail on CI) saying how to install it."""
    found = shutil.which(name)
    if found is None:
        missing(f"`{name}` on PATH ({install})")
    return found
