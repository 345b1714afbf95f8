"""`playbook db current | check | upgrade` as an operator types them, on SQLite and
PostgreSQL: they see the schema as it is (they do not migrate on the way in), upgrade it on
purpose, and an older Playbook against a newer schema is refused with both revisions and the
release it needs named. Every other command migrates a named database only when told."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine

from bot.cli.main import main
from storage.database import head_revision, release


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
    assert code == 1 and f"no Playbook schema yet; this Playbook needs {head}" in err
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


def test_commands_migrate_a_named_database_only_when_told(
        tmp_path: Path, engine_url: str, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "playbook.toml").write_text("[models.chat]\n")
    head = head_revision()
    code, _, err = run(capsys, tmp_path, engine_url, "versions", "chat")
    assert code == 1 and f"no Playbook schema yet; this Playbook needs {head}" in err
    assert "playbook db upgrade" in err and "PLAYBOOK_MIGRATE=1" in err
    assert run(capsys, tmp_path, engine_url, "db", "current")[1]["current"] is None  # untouched

    code, out, _ = run(capsys, tmp_path, engine_url, "--migrate", "versions", "chat")
    assert code == 0 and out == []
    assert run(capsys, tmp_path, engine_url, "db", "current")[1]["at_head"] is True
    with create_engine(engine_url).begin() as conn:  # who migrated is remembered
        assert conn.exec_driver_sql("SELECT release FROM schema_releases").scalar() == release()

    other = tmp_path / "other"
    other.mkdir()
    (other / "playbook.toml").write_text("[models.chat]\n")
    url = f"sqlite:///{other / 'named.db'}"
    monkeypatch.setenv("PLAYBOOK_MIGRATE", "1")
    assert run(capsys, other, url, "versions", "chat")[0] == 0
    monkeypatch.delenv("PLAYBOOK_MIGRATE")
    assert run(capsys, other, url, "db", "check")[0] == 0


def test_the_embedded_default_is_migrated_on_the_way_in(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "playbook.toml").write_text("[models.chat]\n")
    code = main(["--config", str(tmp_path / "playbook.toml"), "--home", str(tmp_path / "home"),
                 "--json", "versions", "chat"])
    assert code == 0 and json.loads(capsys.readouterr().out) == []
    assert (tmp_path / "home" / "playbook.db").exists()


def test_an_older_playbook_names_the_release_a_newer_schema_needs(
        tmp_path: Path, engine_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "playbook.toml").write_text("[models.chat]\n")
    assert run(capsys, tmp_path, engine_url, "db", "upgrade")[0] == 0
    engine = create_engine(engine_url)
    try:
        with engine.begin() as conn:  # what Playbook 9.9.0's migration 9999 leaves
            conn.exec_driver_sql("UPDATE alembic_version SET version_num = '9999_newer'")
            conn.exec_driver_sql("INSERT INTO schema_releases (revision, release, migrated_at) "
                                 "VALUES ('9999_newer', '9.9.0', '2026-12-06 10:00:00+00:00')")
    finally:
        engine.dispose()
    for argv in (("versions", "chat"), ("--migrate", "versions", "chat"), ("db", "check"),
                 ("db", "upgrade")):
        code, _, err = run(capsys, tmp_path, engine_url, *argv)
        assert code == 1, argv
        assert "9999_newer, migrated by Playbook 9.9.0" in err, err
        assert f"knows up to {head_revision()}" in err and "Playbook 9.9.0 or newer" in err
