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
    assert "step '" not in err  # the play's internals stay in `playbook runs`
    assert run(tmp_path, capsys, "versions", "vault")[1] == []  # nothing registered

    code, out, err = run(tmp_path, capsys, "register", "vault", "--weights",
                         "hf://acme/llama@main", "--weights-sha256", "a" * 64, *common)
    assert code == 0 and out["warnings"] == [] and err == ""


def test_a_registration_without_owner_or_reason_is_bad_usage(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "playbook.toml").write_text(CONFIG)
    with pytest.raises(SystemExit) as stopped:
        main(["--config", str(tmp_path / "playbook.toml"), "--home", str(tmp_path / "home"),
              "register", "chat", "--root", "--prompt", "hi"])
    assert stopped.value.code == 2  # README: 2 is bad usage
    err = capsys.readouterr().err
    assert "the following arguments are required: --owner, --reason" in err


def test_a_missing_field_says_it_is_required_on_every_surface() -> None:
    from core.commands import Register
    from core.errors import InvalidInput

    with pytest.raises(InvalidInput) as caught:
        Register.parse(model="chat", components={"prompt": "hi"}, owner=None, reason=None,
                       root=True, actor="ana")
    assert str(caught.value) == "owner: is required; also reason: is required"
