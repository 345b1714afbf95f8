"""playbook-client stays a small, separate thing in a serving process: its own distribution
in client/, httpx its only dependency, one package, and no import of Playbook's server
packages (`bot`, `core` and `storage` are generic names that must stay out)."""

from __future__ import annotations

import ast
import tomllib
from pathlib import Path

CLIENT = Path(__file__).resolve().parents[2] / "client"


def test_the_client_is_its_own_distribution_depending_on_httpx_only() -> None:
    project = tomllib.loads((CLIENT / "pyproject.toml").read_text())
    assert project["project"]["name"] == "playbook-client"
    assert [d.split(">")[0] for d in project["project"]["dependencies"]] == ["httpx"]
    assert project["tool"]["setuptools"]["packages"] == ["playbook_client"]
    assert (CLIENT / "playbook_client" / "py.typed").exists()


def test_the_client_imports_nothing_of_the_server() -> None:
    for path in (CLIENT / "playbook_client").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else \
                [node.module or ""] if isinstance(node, ast.ImportFrom) else []
            for name in names:
                assert name.split(".")[0] not in ("bot", "core", "storage"), (path, name)
