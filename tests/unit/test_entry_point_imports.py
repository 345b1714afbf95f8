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


def environment_reads() -> set[str]:
    """Places outside bot/settings.py that read the process environment: os.environ,
    os.getenv, or bot.settings.environment() with no mapping given."""
    found = set()
    for root in ("bot", "core", "storage"):
        for path in sorted((BOT.parent / root).rglob("*.py")):
            rel = path.relative_to(BOT.parent).as_posix()
            if rel in ("bot/settings.py", "storage/migrations/env.py"):  # Alembic's own CLI
                continue
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), rel)):
                if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) \
                        and node.value.id == "os" and node.attr in ("environ", "getenv"):
                    found.add(rel)
                if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) \
                        and node.func.id == "environment" and not node.args:
                    found.add(rel)
    return found


def test_only_the_settings_read_the_environment() -> None:
    """One settings class, read once: entry points take it from the app (app.settings.env)."""
    assert environment_reads() == set()
