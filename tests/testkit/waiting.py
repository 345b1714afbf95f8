"""Waiting for an exact condition, never for time to pass.

The limit is only there so that a broken build fails instead of hanging; it is generous
(a loaded machine is slow, not wrong) and can be raised with PLAYBOOK_TEST_WAIT_S.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")
LIMIT_S = float(os.environ.get("PLAYBOOK_TEST_WAIT_S", "120"))
POLL_S = 0.05


def until(what: Callable[[], T], describe: str | Callable[[], str],
          limit: float = LIMIT_S) -> T:
    """`what()` once it is truthy; checked every 50 ms, given up after `limit` seconds."""
    deadline = time.monotonic() + limit
    while True:
        found = what()
        if found:
            return found
        if time.monotonic() > deadline:
            text = describe() if callable(describe) else describe
            raise AssertionError(f"waited {limit:g} s in vain for {text}")
        time.sleep(POLL_S)
