"""`playbook register` with a weights reference that names a moving target: a warning on a
low-stakes model, a refusal (and nothing registered) where digests are required."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from bot.cli.main import main

CONFIG = """
[models.chat]
metric = "score"

[models.vault]
metric = "score"
stakes = "regulated"
approvers = ["ben", "cho"]
"""


def run(tmp: Path, capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, Any, str]:
    code = main(["--config", str(tmp / "playbook.toml"), "--home", str(tmp / "home"),
                 "--as", "ana", "--json", *argv])
    out, err = capsys.readouterr()
    return code, json.loads(out) if code == 0 else None, err


def test_moving_references_warn_or_are_refused(tmp_path: Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "playbook.toml").write_text(CONFIG)
    common = ("--root", "--owner", "ana", "--reason", "r", "--score", "score=0.9")
    code, out, err = run(tmp_path, capsys, "register", "chat", "--weights",
                         "hf://acme/llama@main", *common)
    assert code == 0 and out["created"]
    assert "moving target (the moving revision @main)" in out["warnings"][0]
    assert err.startswith("playbook: warning: weights 'hf://acme/llama@main'")

    code, _, err = run(tmp_path, capsys, "register", "vault", "--weights",
                       "hf://acme/llama@main", *common)
    assert code == 1 and "vault requires digests" in err and "--weights-sha256" in err
    assert run(tmp_path, capsys, "versions", "vault")[1] == []  # nothing registered

    code, out, err = run(tmp_path, capsys, "register", "vault", "--weights",
                         "hf://acme/llama@main", "--weights-sha256", "a" * 64, *common)
    assert code == 0 and out["warnings"] == [] and err == ""
