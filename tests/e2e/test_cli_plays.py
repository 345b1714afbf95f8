"""All seven plays through the `playbook` command, as a user types them, on a real database."""

from __future__ import annotations

import json
import re
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

from bot.cli.main import main

EVAL = textwrap.dedent("""
    import json, sys
    v = json.load(sys.stdin)
    prompt = v["components"].get("prompt") or ""
    print(json.dumps({"scores": {"score": round(min(1.0, len(prompt) / 100), 4)}}))
""")

CONFIG = textwrap.dedent(f"""
    [defaults]
    metric = "score"
    min_score = 0.1
    retention_days = 1
    experiment_retention_days = 1
    evaluator = {{ command = "{sys.executable} eval.py", timeout_s = 30 }}

    [models.chat]
    stakes = "low"
    owner = "ana"

    [models.risky]
    stakes = "high"
    owner = "ana"
    approvers = ["ben", "cho"]

    [models.strict]
    stakes = "regulated"
    owner = "ana"
    approvers = ["ben", "cho"]
""")


class Cli:
    """Runs `playbook` in-process with the workspace's config and database."""

    def __init__(self, root: Path, database: str, capsys: pytest.CaptureFixture[str]) -> None:
        self.root = root
        self.database = database
        self.capsys = capsys

    def __call__(self, *argv: str, user: str = "ana", ok: bool = True) -> Any:
        code = main(["--config", str(self.root / "playbook.toml"), "--home",
                     str(self.root / "home"), "--database", self.database, "--as", user,
                     "--json", *argv])
        out, err = self.capsys.readouterr()
        if ok:
            assert code == 0, f"playbook {' '.join(argv)} failed: {err}"
            return json.loads(out)
        assert code == 1, f"playbook {' '.join(argv)} should have been refused: {out}"
        assert err.startswith("playbook: ") and err.count("\n") == 1, err
        return err.strip()

    def text(self, *argv: str, user: str = "ana") -> str:
        """What a person reads (no --json)."""
        code = main(["--config", str(self.root / "playbook.toml"), "--home",
                     str(self.root / "home"), "--database", self.database, "--as", user, *argv])
        out, err = self.capsys.readouterr()
        assert code == 0, err
        return out

    def state(self, model: str) -> dict[str, Any]:
        """Everything a refusal must leave untouched."""
        return {"versions": [v["id"] for v in self(*["versions", "--limit", "1000"], model)],
                "tags": self("tags", model), "events": self("history", model)}


@pytest.fixture
def cli(tmp_path: Path, engine_url: str, capsys: pytest.CaptureFixture[str]) -> Cli:
    (tmp_path / "playbook.toml").write_text(CONFIG)
    (tmp_path / "eval.py").write_text(EVAL)
    cli = Cli(tmp_path, engine_url, capsys)
    cli("db", "upgrade")  # a database named by --database is migrated only on purpose
    return cli


def reg(cli: Cli, model: str, prompt: str, parent: str | None = None, *extra: str,
        user: str = "ana") -> dict[str, Any]:
    lineage = ["--parent", parent] if parent else ["--root"]
    return cli("register", model, *lineage, "--owner", "ana", "--reason", f"try {prompt[:10]}",
               "--prompt", prompt, *extra, user=user)  # type: ignore[no-any-return]


def test_walk_all_seven_plays(cli: Cli, tmp_path: Path) -> None:
    # Play 1: register; the evaluator runs; same content twice is the same version.
    v1 = reg(cli, "chat", "x" * 40)
    assert v1["created"] and v1["scores"] == {"score": 0.4}
    again = cli("register", "chat", "--root", "--owner", "ana", "--reason", "again",
                "--prompt", "x" * 40)
    assert again["id"] == v1["id"] and not again["created"]
    weights = tmp_path / "w.bin"
    weights.write_bytes(b"w" * 1000)
    v2 = reg(cli, "chat", "x" * 60, v1["short"], "--weights-file", str(weights))
    assert v2["parent"] == v1["id"] and v2["artifacts"][0]["size"] == 1000

    # Play 2: low stakes promotes at once; the gate refuses a worse candidate.
    assert cli("promote", "chat", v1["short"])["event"]["to"] == v1["id"]
    assert cli("promote", "chat", v2["id"][:8])["event"]["revision"] == 2
    assert "below production" in cli("promote", "chat", v1["short"], ok=False)

    # Play 4: an experiment branches from a parent under experiment/<name>.
    exp = cli("experiment", "chat", "long", "--parent", v2["short"], "--owner", "ana",
              "--reason", "longer", "--prompt", "y" * 70, "--artifact", str(weights))
    assert exp["tag"] == "experiment/long" and exp["kind"] == "experiment"
    assert exp["unpromotable"] is None  # it beats production: the answer says promote it
    # What it does not change is the parent's: here the weights, and one config key set.
    assert exp["components"]["weights"] == v2["components"]["weights"]
    warm = cli("experiment", "chat", "warm", "--parent", v2["short"], "--owner", "ana",
               "--reason", "warmer", "--set", "temperature=0.9", "--set", "style.tone=warm")
    assert warm["components"]["prompt"] == v2["components"]["prompt"]
    assert warm["components"]["config"] == {"temperature": 0.9, "style": {"tone": "warm"}}
    assert "--set" in cli("experiment", "chat", "bad", "--parent", v2["short"], "--owner",
                          "ana", "--reason", "r", "--set", "nothing", ok=False)

    # A release with CI-supplied scores that hide a regression goes to production.
    v3 = reg(cli, "chat", "x" * 20, v2["short"], "--score", "score=0.99")
    cli("promote", "chat", v3["short"], "--because", "CI says so")
    stored = cli("attribute", str(_lines(tmp_path, [
        {"request_id": "r1", "model": "chat", "version": v3["id"], "latency_ms": 5},
        {"request_id": "r2", "model": "chat", "version": v3["short"], "error": True}])))
    assert stored == {"received": 2, "stored": 2, "duplicates": 0}

    # Play 7: investigate re-runs the eval and confirms the regression.
    found = cli("investigate", "chat")
    assert found["regression"] is True
    assert found["suspect"]["id"] == v3["id"] and found["previous"]["id"] == v2["id"]
    assert found["diff"]["changed_components"] == ["weights", "prompt"]
    assert found["scores"]["suspect"]["score"] == 0.2

    # Play 3: rollback goes to the last known-good (v2) and confirms with the eval suite.
    rolled = cli("rollback", "chat", "--symptom", "short answers")
    assert rolled["restored_version"] == v2["id"] and rolled["bad_version"] == v3["id"]
    assert rolled["confirmation"] == "passed" and rolled["time_to_rollback_s"] >= 0
    assert cli("tags", "chat")[-1]["version"] == v2["id"] or any(
        t["tag"] == "production" and t["version"] == v2["id"] for t in cli("tags", "chat"))
    # Investigating again now: still about v3, which no longer serves; no rollback offered.
    again = cli("investigate", "chat")
    assert again["suspect"]["id"] == v3["id"] and again["suspect_serving"] is False
    assert again["serving"]["id"] == v2["id"] and again["moved_on"]["play"] == "rollback"
    assert "playbook rollback" not in cli.text("investigate", "chat")

    # Play 5: the audit bundle names the version that served r2, with lineage and events.
    bundle = cli("audit", "r2")
    assert bundle["version"]["id"] == v3["id"]
    assert [x["id"] for x in bundle["lineage"]] == [v3["id"], v2["id"], v1["id"]]
    assert {e["play"] for e in bundle["tag_events"]} == {"promote", "rollback"}
    assert bundle["incidents"][0]["id"] == rolled["id"]
    assert bundle["lineage_truncated"] is False and bundle["lineage_depth"] == 2
    nearest = cli("audit", "r2", "--lineage", "1")  # the nearest only, and how far it goes
    assert [x["id"] for x in nearest["lineage"]] == [v3["id"]]
    assert nearest["lineage_truncated"] is True and nearest["lineage_depth"] == 2
    assert nearest["lineage_root"]["id"] == v1["id"]
    assert (f"lineage     {nearest['version']['short']} <- ... (1 of 3 listed; the chain starts "
            f"at {nearest['lineage_root']['version']}; `--lineage all` lists all of it)"
            in cli.text("audit", "r2", "--lineage", "1"))
    assert len(cli("audit", "r2", "--lineage", "all")["lineage"]) == 3
    assert f"incident {rolled['id']}: rolled back from this version" in cli.text("audit", "r2")
    then = cli("audit", "--model", "chat", "--at", "now")
    assert then["version"]["id"] == v2["id"]

    # Play 6: nothing is past retention yet; a dry run frees nothing.
    assert cli("gc", "--dry-run")["collected"] == []

    # High stakes: a second person approves; the requester cannot.
    r1 = reg(cli, "risky", "z" * 30)
    req = cli("promote", "risky", r1["short"])["request"]
    assert req["status"] == "pending"
    assert "cannot approve" in cli("approve", req["id"], ok=False)
    assert "not an approver" in cli("approve", req["id"], user="eve", ok=False)
    done = cli("approve", req["id"], user="ben")
    assert done["status"] == "approved" and done["event"]["approvers"] == ["ben"]
    assert "no longer be decided" in cli("approve", req["id"], user="cho", ok=False)

    # Regulated: two distinct approvers, and the same one twice is refused.
    s1 = reg(cli, "strict", "q" * 30)
    req = cli("promote", "strict", s1["short"])["request"]
    assert cli("approve", req["id"], user="ben")["status"] == "pending"
    assert "already approved" in cli("approve", req["id"], user="ben", ok=False)
    assert cli("approve", req["id"], user="cho")["event"]["approvers"] == ["ben", "cho"]

    # Every run is recorded and explains itself.
    runs = cli("runs", "--limit", "100")
    assert {r["play"] for r in runs} >= {"register", "promote", "approve", "rollback",
                                          "experiment", "audit", "gc", "investigate"}
    failed = [r for r in runs if r["status"] == "failed"]
    assert failed and all(r["error"] for r in failed)
    shown = cli("runs", failed[0]["id"])
    assert any(s["status"] == "failed" for s in shown["steps"])


def _lines(tmp_path: Path, records: list[dict[str, Any]]) -> Path:
    path = tmp_path / "served.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in records))
    return path


def test_bad_input_is_refused_and_changes_nothing(cli: Cli, tmp_path: Path) -> None:
    v1 = reg(cli, "chat", "x" * 40)
    cli("promote", "chat", v1["short"])
    before = cli.state("chat")

    assert "not declared" in cli("register", "nope", "--root", "--owner", "a", "--reason", "r",
                                 "--prompt", "p", ok=False)
    assert "owner: is empty" in cli("register", "chat", "--root", "--owner", "", "--reason",
                                    "r", "--prompt", "p", ok=False)
    assert "reason: is empty" in cli("register", "chat", "--root", "--owner", "a", "--reason",
                                     " ", "--prompt", "p", ok=False)
    assert "parent" in cli("register", "chat", "--owner", "a", "--reason", "r", "--prompt", "p",
                           ok=False)
    assert "no version chat@deadbeef" in cli(
        "register", "chat", "--parent", "chat@deadbeef", "--owner", "a", "--reason", "r",
        "--prompt", "p", ok=False)
    assert "at least one of" in cli("register", "chat", "--root", "--owner", "a", "--reason",
                                    "r", ok=False)
    assert "model-config" in cli("register", "chat", "--root", "--owner", "a", "--reason", "r",
                                 "--model-config", "{not json", ok=False)
    assert "score" in cli("register", "chat", "--root", "--owner", "a", "--reason", "r",
                          "--prompt", "p", "--score", "oops", ok=False)
    assert "already production" in cli("promote", "chat", v1["short"], ok=False)
    v2 = reg(cli, "chat", "x" * 50, v1["short"])
    assert "moved meanwhile" in cli("promote", "chat", v2["short"], "--expect-revision", "0",
                                    ok=False)  # a stale read of the tag
    assert "moved meanwhile" in cli("rollback", "chat", "--to", v2["short"],
                                    "--expect-revision", "7", ok=False)
    before["versions"].insert(0, v2["id"])
    assert "earlier known-good" in cli("rollback", "chat", ok=False)
    assert "no attribution" in cli("audit", "missing", ok=False)
    bad = _lines(tmp_path, [{"request_id": "a", "model": "chat", "version": v1["id"]},
                            {"request_id": "b", "model": "chat", "version": "chat@00000000"}])
    assert "records[1]" in cli("attribute", str(bad), ok=False)
    assert "no attribution" in cli("audit", "a", ok=False)  # nothing of the batch was stored
    cli("attribute", str(_lines(tmp_path, [{"request_id": "x", "model": "chat",
                                            "version": v1["id"]}])))
    other = _lines(tmp_path, [{"request_id": "y", "model": "chat", "version": v1["id"]},
                              {"request_id": "x", "model": "chat", "version": v2["id"]}])
    assert "already attributed" in cli("attribute", str(other), ok=False)
    assert cli("audit", "x")["version"]["id"] == v1["id"]
    assert "no attribution" in cli("audit", "y", ok=False)
    assert cli.state("chat") == before


def test_times_in_answers_and_refusals_say_their_zone(cli: Cli,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    v1 = reg(cli, "chat", "x" * 40)
    cli("promote", "chat", v1["short"])
    refused = cli("investigate", "chat", "--since", "2001-02-03T04:05:06.789012+00:00", ok=False)
    assert "chat had no production version at 2001-02-03 04:05:06 UTC" in refused
    assert ".789012" not in refused and "+00:00" not in refused
    for argv in (["history", "chat"], ["versions", "chat"], ["show", v1["short"]]):
        code = main(["--config", str(cli.root / "playbook.toml"), "--home",
                     str(cli.root / "home"), "--database", cli.database, *argv])
        out = capsys.readouterr().out
        assert code == 0 and re.search(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC", out), out


def test_malformed_config_is_reported_with_every_bad_key(cli: Cli, tmp_path: Path) -> None:
    (tmp_path / "playbook.toml").write_text(textwrap.dedent("""
        [models.chat]
        stakes = "medium"
        retention_days = -1
        colour = "blue"
    """))
    err = cli("versions", "chat", ok=False)
    assert "playbook.toml is not valid" in err
    assert "models.chat.stakes" in err and "models.chat.retention_days" in err
    assert "models.chat.colour" in err


def test_init_writes_a_valid_starter_and_refuses_to_overwrite(tmp_path: Path,
                                                              capsys: pytest.CaptureFixture[str]
                                                              ) -> None:
    config = tmp_path / "playbook.toml"
    assert main(["--config", str(config), "init"]) == 0
    assert "[models.example]" in config.read_text()
    assert main(["--config", str(config), "--home", str(tmp_path / "h"), "versions",
                 "example"]) == 0
    assert main(["--config", str(config), "init"]) == 1
    assert "already exists" in capsys.readouterr().err


@pytest.mark.parametrize(("name", "value", "says"), [
    ("SLACK_WORKERS", "zero", "SLACK_WORKERS='zero'"),
    ("PLAYBOOK_API_TOKEN_CACHE_S", "abc", "PLAYBOOK_API_TOKEN_CACHE_S='abc'"),
    ("PLAYBOOK_OUTBOX_LEASE_S", "-1", "PLAYBOOK_OUTBOX_LEASE_S='-1'"),
    ("PLAYBOOK_LOG_LEVEL", "loud", "'DEBUG', 'INFO', 'WARNING' or 'ERROR'"),
    ("PLAYBOOK_CANARY_MIN_SAMPLE", "50", "set per model in playbook.toml"),
])
def test_a_bad_environment_value_is_one_line_naming_it(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
        name: str, value: str, says: str) -> None:
    (tmp_path / "playbook.toml").write_text(CONFIG)
    monkeypatch.setenv(name, value)
    monkeypatch.setenv("SLACK_API_URL", "")  # empty counts as unset, never as a bad value
    code = main(["--config", str(tmp_path / "playbook.toml"), "--home", str(tmp_path),
                 "versions", "chat"])
    err = capsys.readouterr().err
    assert code == 1 and err.startswith("playbook: ") and says in err, err
    assert len(err.strip().splitlines()) == 1  # no traceback


def test_rollback_counts_from_when_the_trouble_was_detected(cli: Cli) -> None:
    v1 = reg(cli, "chat", "x" * 40)
    cli("promote", "chat", v1["short"])
    v2 = reg(cli, "chat", "x" * 60, v1["short"])
    cli("promote", "chat", v2["short"])
    before = cli.state("chat")
    refused = cli("rollback", "chat", "--detected-at", "2099-01-01T00:00:00Z", ok=False)
    assert "detected_at" in refused and "after the rollback was ordered" in refused
    assert cli.state("chat") == before

    rolled = cli("rollback", "chat", "--detected-at", "10m ago", "--symptom", "pager")
    assert rolled["restored_version"] == v1["id"]
    assert 600 <= rolled["time_to_rollback_s"] < 900  # from the detection, not the command
    stages = [s["stage"] for s in rolled["stages"]]
    assert stages == ["detected", "decided", "tag moved", "serving switched", "confirmed"]
    assert rolled["serving_switched_at"] is None and rolled["detected_at"] < rolled["opened_at"]
