"""The entry points (bot/cli, bot/api, bot/slack, bot/scheduler, bot/sandbox) never import one
another: each takes the composed app, and what they share lives in bot/shared (rendering, time
parsing, Slack ids, tokens) or in the composition root (bot/bootstrap.py, bot/server.py,
bot/consequences.py)."""

from __future__ import annotations

import ast
from pathlib import Path

BOT = Path(__file__).resolve().parents[2] / "bot"
ENTRY_POINTS = ("cli", "api", "slack", "scheduler", "sandbox")

def crossings() -> set[tuple[str, str]]:
    found = set()
    for path in sorted(BOT.rglob("*.py")):
        rel = path.relative_to(BOT.parent)
        if len(rel.parts) < 3 or rel.parts[1] not in ENTRY_POINTS:
            continue
        home = rel.parts[1]
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
            modules: list[str] = []
            if isinstance(node, ast.Import):
                modules = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                modules = [node.module]
            for module in modules:
                parts = module.split(".")
                if parts[0] == "bot" and len(parts) > 1 and parts[1] in ENTRY_POINTS \
                        and parts[1] != home:
                    found.add((rel.as_posix(), parts[1]))
    return found


def test_no_entry_point_imports_another() -> None:
    assert crossings() == set(), "an entry point imports another; share through bot/shared"
