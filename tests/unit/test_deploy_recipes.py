"""The deployment recipes (deploy/) run commands this Playbook has: every `playbook` command
line in the Dockerfile, the compose file, the Kubernetes manifests and the systemd unit is
parsed by the real CLI parser. (No container runtime here: the recipes themselves were not
run; deploy/README.md says what was.)"""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path

import pytest

from bot.cli.main import build_parser

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
FLOW = re.compile(r"^\s*(?:-\s*)?(?:args|command|CMD):?\s*(\[.*\])\s*$", re.MULTILINE)
EXEC = re.compile(r"^Exec(?:Start|StartPre)=\S*playbook\s+(.*)$", re.MULTILINE)


def command_lines() -> list[tuple[str, list[str]]]:
    found = []
    for path in sorted(DEPLOY.rglob("*")):
        if not path.is_file() or path.suffix == ".md":
            continue
        text = path.read_text(encoding="utf-8")
        found += [(path.name, json.loads(m)) for m in FLOW.findall(text)]
        found += [(path.name, shlex.split(m)) for m in EXEC.findall(text)]
    return found


def test_the_recipes_hold_commands() -> None:
    names = {name for name, _ in command_lines()}
    assert {"Dockerfile", "compose.yaml", "playbook.yaml", "servers.yaml",
            "playbook.service"} <= names


@pytest.mark.parametrize(("where", "argv"), command_lines())
def test_every_recipe_command_is_one_playbook_has(where: str, argv: list[str]) -> None:
    args = build_parser().parse_args(argv)
    assert args.handler is not None, (where, argv)
    if args.command == "serve":
        assert "--host" not in argv or argv[argv.index("--host") + 1] != "127.0.0.1"
