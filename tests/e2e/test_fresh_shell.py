"""README's way to the `playbook` command from a new shell works: `playbook` is not on a fresh
shell's PATH, and `source .venv/bin/activate` (or `.venv/bin/playbook`) is what README says."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
FRESH = {"PATH": "/usr/bin:/bin", "HOME": "/nonexistent", "LANG": "C.UTF-8"}


def test_readme_says_how_a_new_shell_finds_playbook() -> None:
    readme = " ".join((ROOT / "README.md").read_text(encoding="utf-8").split())
    assert "`source .venv/bin/activate` in a new shell (or call `.venv/bin/playbook`)" in readme


def test_a_new_shell_finds_playbook_the_way_readme_says(tmp_path: Path) -> None:
    bin_dir = Path(sys.executable).parent  # the environment `make test` set up: .venv/bin
    if not (bin_dir / "activate").exists():
        pytest.skip("the tests do not run from a virtual environment with an activate script")
    missing = subprocess.run(["bash", "-c", "command -v playbook"], env=FRESH, cwd=tmp_path,
                             capture_output=True, text=True, check=False)
    assert missing.returncode != 0  # what a newcomer finds first
    for line in (f"source {bin_dir / 'activate'} && playbook --help",
                 f"{bin_dir / 'playbook'} --help"):
        done = subprocess.run(["bash", "-c", line], env=FRESH, cwd=tmp_path,
                              capture_output=True, text=True, check=False, timeout=60)
        assert done.returncode == 0 and done.stdout.startswith("usage: playbook"), done.stderr
