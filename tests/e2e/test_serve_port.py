"""A newcomer's `make run` (and `playbook serve`) with the port already taken: one line that
says so and how to pick another, exit 1, no traceback."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from testkit.ports import bind_free

import bot

ROOT = Path(bot.__file__).resolve().parent.parent


@pytest.mark.parametrize("how", ["playbook serve", "make run"])
def test_a_taken_port_is_one_line_with_the_way_out(tmp_path: Path, how: str) -> None:
    (tmp_path / "playbook.toml").write_text("[models.chat]\n")
    taken = bind_free()
    taken.listen()
    port = taken.getsockname()[1]
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PLAYBOOK_", "SLACK_"))}
    try:
        if how == "make run":
            if shutil.which("make") is None:
                pytest.skip("make is missing")
            # -o: use the environment as it is, never set it up again from a test
            argv = ["make", "--no-print-directory", "-C", str(ROOT), "-o", ".venv/.installed",
                    "run", f"PORT={port}", f"SANDBOX={tmp_path / 'sandbox'}"]
        else:
            argv = [sys.executable, "-m", "bot.cli.main", "--home", str(tmp_path / "home"),
                    "serve", "--http-only", "--port", str(port)]
        done = subprocess.run(argv, env={**env, "PYTHONPATH": str(ROOT)}, cwd=tmp_path,
                              capture_output=True, text=True, timeout=120)
    finally:
        taken.close()
    assert done.returncode != 0
    lines = [line for line in done.stderr.splitlines()
             if line.startswith("playbook:")]
    assert lines == [f"playbook: port {port} on 127.0.0.1 is in use by another process (stop "
                     f"that process, or serve on another port: --port {port + 1} (PLAYBOOK_PORT"
                     f"={port + 1}; with make: PORT={port + 1} make run))"], done.stderr
    assert "Traceback" not in done.stderr
