"""core/ is pure: the standard library and pydantic, never Slack, SQL, HTTP or the scheduler."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

CORE = Path(__file__).resolve().parents[2] / "core"
FORBIDDEN = {"slack_bolt", "slack_sdk", "sqlalchemy", "fastapi", "apscheduler", "httpx",
             "alembic", "psycopg", "psycopg2", "uvicorn", "starlette", "bot", "storage"}
ALLOWED_THIRD_PARTY = {"pydantic", "core"}
MODULES = sorted(CORE.rglob("*.py"))


def imported(path: Path) -> set[str]:
    """Top-level names of every module the file imports, wherever the import statement is."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative: inside core by construction
                names.add("core")
            elif node.module:
                names.add(node.module.split(".")[0])
        elif isinstance(node, ast.Call) and getattr(node.func, "attr", None) == "import_module" \
                and node.args and isinstance(node.args[0], ast.Constant):
            names.add(str(node.args[0].value).split(".")[0])
    return names


def test_core_has_modules_to_check() -> None:
    assert CORE.is_dir()
    assert {p.name for p in MODULES} >= {"ports.py", "engine.py", "register.py", "rollback.py"}


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(CORE.parent)))
def test_core_imports_nothing_from_the_outside(path: Path) -> None:
    names = imported(path)
    assert not names & FORBIDDEN, f"{path} imports {sorted(names & FORBIDDEN)}"
    outside = {n for n in names - ALLOWED_THIRD_PARTY - {"__future__"}
               if n not in sys.stdlib_module_names}
    assert not outside, f"{path} imports {sorted(outside)}: core uses stdlib and pydantic only"


def test_importing_every_play_loads_no_outside_module() -> None:
    probe = ("import sys, core.plays, core.plays.attribute, core.serialize, core.replay, "
             "core.diff; print(' '.join(sorted({m.split('.')[0] for m in sys.modules})))")
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                         cwd=CORE.parent, check=True).stdout.split()
    assert not set(out) & FORBIDDEN
