"""`playbook db current | check | upgrade` as an operator types them, on SQLite and
PostgreSQL: they see the schema as it is (they do not migrate on the way in), upgrade it on
purpose, and an older Playbook against a newer schema is refused with both revisions named."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine

from bot.cli.main import main
from storage.database import head_revision


def run(capsys: pytest.CaptureFixture[str], root: Path, url: str,
        *argv: str) -> tuple[int, Any, str]:
    code = main(["--config", str(root / "playbook.toml"), "--home", str(root / "home"),
                 "--database", url, "--json", *argv])
    out, err = capsys.readouterr()
    return code, json.loads(out) if out.strip() else None, err


def test_the_schema_is_looked_at_checked_and_upgraded_on_purpose(
        tmp_path: Path, engine_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "playbook.toml").write_text("[models.chat]\n")
    head = head_revision()

    code, out, _ = run(capsys, tmp_path, engine_url, "db", "current")
    assert code == 0 and out == {"current": None, "head": head, "at_head": False}
    code, _, err = run(capsys, tmp_path, engine_url, "db", "check")
    assert code == 1 and f"at nothing; this Playbook needs {head}" in err
    assert "playbook db upgrade" in err

    code, out, _ = run(capsys, tmp_path, engine_url, "db", "upgrade")
    assert code == 0 and out == {"from": None, "to": head, "head": head}
    code, out, _ = run(capsys, tmp_path, engine_url, "db", "upgrade")
    assert code == 0 and out["from"] == out["to"] == head
    assert run(capsys, tmp_path, engine_url, "db", "check")[0] == 0

    engine = create_engine(engine_url)
    try:
        with engine.begin() as conn:  # what a newer Playbook's migration leaves
            conn.exec_driver_sql("UPDATE alembic_version SET version_num = '9999_newer'")
    finally:
        engine.dispose()
    code, out, _ = run(capsys, tmp_path, engine_url, "db", "current")
    assert code == 0 and out["current"] == "9999_newer" and out["at_head"] is False
    for argv in (("db", "upgrade"), ("versions", "chat")):
        code, _, err = run(capsys, tmp_path, engine_url, *argv)
        assert code == 1 and "9999_newer" in err and "upgrade Playbook" in err, err
