"""Headless Chromium for the sandbox page's tests: Debian's system browser driven by Playwright.

Without /usr/bin/chromium or the playwright package the browser tests skip, except under
`CI=true`, where a skip fails the run (as the PostgreSQL tests do): CI installs both, so a
missing browser there is a broken pipeline, not a reason to pass quietly.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from testkit.waiting import LIMIT_S

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page, ViewportSize

CHROMIUM = Path(os.environ.get("PLAYBOOK_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                 "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]
REPO = Path(__file__).resolve().parents[3]
STATIC = REPO / "bot" / "sandbox" / "static"
VIEWPORT: ViewportSize = {"width": 1280, "height": 800}


def skip_or_fail(reason: str) -> None:
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"CI needs headless Chromium for the sandbox page tests; {reason}")
    pytest.skip(reason)


@contextmanager
def chromium() -> Iterator[Browser]:
    """The system Chromium, headless; never a downloaded one (`playwright install` is not
    used: machines here have no route to its download servers)."""
    if not CHROMIUM.exists():
        skip_or_fail(f"{CHROMIUM} is missing (Debian: apt-get install chromium)")
    try:
        from playwright.sync_api import expect, sync_playwright
    except ImportError:
        skip_or_fail("the playwright package is missing (pip install -e '.[dev]')")
    expect.set_options(timeout=LIMIT_S * 1000)  # a loaded machine is slow, not wrong
    with sync_playwright() as p:
        # The browser is the user's machine, not ours: under `make test-faketime` it keeps
        # the real clock (libfaketime slows Chromium down past any sensible wait).
        env = {k: v for k, v in os.environ.items()
               if not k.startswith("FAKETIME") and k not in ("LD_PRELOAD", "DONT_FAKE_MONOTONIC")}
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS,
                                    env=env)
        try:
            yield browser
        finally:
            browser.close()


def artifacts_dir() -> Path:
    """Where screenshots go: $PLAYBOOK_ARTIFACTS, else test-artifacts/sandbox/ at the repo root."""
    configured = os.environ.get("PLAYBOOK_ARTIFACTS")
    path = Path(configured) if configured else REPO / "test-artifacts" / "sandbox"
    path.mkdir(parents=True, exist_ok=True)
    return path


def screenshot(page: Page, name: str) -> Path:
    """A full-page screenshot named after the step, for a person to look at afterwards."""
    target = artifacts_dir() / f"{re.sub(r'[^a-z0-9_-]+', '-', name.lower())}.png"
    page.screenshot(path=str(target), full_page=True)
    return target


def fail_on_page_errors(page: Page) -> list[str]:
    """Collects uncaught errors and console errors; a test asserts the list is empty. A 4xx
    answer is part of the story (a refused command), so Chromium's "Failed to load resource"
    lines are not errors of the page."""
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(f"pageerror: {exc}"))
    page.on("console", lambda msg: errors.append(f"console.error: {msg.text}")
            if msg.type == "error" and "Failed to load resource" not in msg.text else None)
    return errors


@contextmanager
def clean_page(browser: Browser, viewport: ViewportSize = VIEWPORT) -> Iterator[Page]:
    """A page in a fresh context, patient on a loaded machine; on leaving it, the page must
    have met no error of its own (uncaught exceptions, console errors)."""
    context = browser.new_context(viewport=viewport)
    page = context.new_page()
    page.set_default_timeout(LIMIT_S * 1000)  # a loaded machine is slow, not wrong
    errors = fail_on_page_errors(page)
    yield page
    context.close()
    assert errors == [], errors
