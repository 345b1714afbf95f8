"""The tag move goes where serving already looks: a real MLflow tracking server (MLflow from
PyPI in its own environment, testkit/mlflow_server.py) has the `production` and `canary`
aliases of its registered model follow every promote, rollback and canary, delivered from the
outbox. A mirror that cannot follow (MLflow away, a version without an MLflow number) never
undoes the move: the delivery waits, retried, its error shown by `playbook outbox`."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from testkit.mlflow_server import Mlflow, mlflow_server
from testkit.ports import free_port

from bot.cli.main import main


@pytest.fixture(scope="module")
def mlflow(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Mlflow]:
    with mlflow_server(tmp_path_factory.mktemp("mlflow")) as server:
        yield server


class Cli:
    def __init__(self, root: Path, capsys: pytest.CaptureFixture[str]) -> None:
        self.root, self.capsys = root, capsys

    def __call__(self, *argv: str, ok: bool = True) -> Any:
        code = main(["--config", str(self.root / "playbook.toml"), "--home",
                     str(self.root / "home"), "--as", "ana", "--json", *argv])
        out, err = self.capsys.readouterr()
        assert (code == 0) == ok, err or out
        return json.loads(out) if ok else err


def setup(tmp: Path, capsys: pytest.CaptureFixture[str], url: str) -> Cli:
    (tmp / "playbook.toml").write_text(
        f'[models.chat]\nmetric = "score"\nmirror = {{ mlflow = "{url}", name = "support-bot" }}\n')
    return Cli(tmp, capsys)


def register(cli: Cli, n: int, parent: str | None, *how: str) -> str:
    lineage = ["--parent", f"chat@{parent}"] if parent else ["--root"]
    found: str = cli("register", "chat", *lineage, "--owner", "ana", "--reason", f"v{n}",
                     "--prompt", f"prompt {n}", "--score", "score=0.9", *how)["id"]
    return found


def test_production_and_canary_aliases_follow_every_move(
        mlflow: Mlflow, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert mlflow.create_model("support-bot", ["s3://acme/w1", "s3://acme/w2"]) == ["1", "2"]
    cli = setup(tmp_path, capsys, mlflow.url)
    v1 = register(cli, 1, None, "--mlflow-version", "1")
    v2 = register(cli, 2, v1, "--mlflow-version", "2")
    assert cli("show", f"chat@{v2}")["components"]["weights"]["ref"] == "models:/support-bot/2"

    cli("promote", "chat", f"chat@{v1}")
    cli("promote", "chat", f"chat@{v2}")
    assert mlflow.alias("support-bot", "production") is None  # not before delivery
    assert cli("outbox", "deliver")["delivered"] >= 2
    assert mlflow.alias("support-bot", "production") == "2"

    incident = cli("rollback", "chat", "--symptom", "bad answers")["id"]
    cli("outbox", "deliver")
    assert mlflow.alias("support-bot", "production") == "1"
    (told,) = cli("events", "--name", "MirrorReported")  # for the incident's thread
    assert told["incident_id"] == incident and told["followed"] is True
    assert told["detail"] == "version 1" and told["registry"] == "MLflow support-bot"

    cli("promote", "chat", f"chat@{v2}", "--canary", "10%")
    cli("outbox", "deliver")
    assert mlflow.alias("support-bot", "canary") == "2"
    assert mlflow.alias("support-bot", "production") == "1"
    left = cli("outbox")["deliveries"]
    assert [d for d in left if d["handler"] == "mirror"] == []


def test_a_mirror_that_cannot_follow_waits_and_never_undoes_the_move(
        mlflow: Mlflow, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    mlflow.create_model("other-bot", ["s3://acme/o1"])
    away = setup(tmp_path, capsys, f"http://127.0.0.1:{free_port()}")  # nothing listens
    v1 = register(away, 1, None, "--weights", "models:/support-bot/1")
    v2 = register(away, 2, v1, "--weights", "models:/support-bot/2")
    away("promote", "chat", f"chat@{v1}")
    away("promote", "chat", f"chat@{v2}")
    incident = away("rollback", "chat")["id"]
    away("outbox", "deliver")
    waiting = [d for d in away("outbox")["deliveries"] if d["handler"] == "mirror"]
    assert [d["state"] for d in waiting] == ["pending"] * 3
    assert "did not answer" in waiting[0]["last_error"]  # the rest wait behind it, in order
    assert [t["version"] for t in away("tags", "chat") if t["tag"] == "production"] == [v1]
    (lagging,) = away("events", "--name", "MirrorReported")  # the rollback's thread is told
    assert lagging["incident_id"] == incident and lagging["followed"] is False
    assert "did not answer" in lagging["detail"]

    (tmp_path / "b").mkdir()
    bare = setup(tmp_path / "b", capsys, mlflow.url)
    v = register(bare, 1, None, "--weights", "hf://acme/llama@3f9a1c2")
    bare("promote", "chat", f"chat@{v}")
    bare("outbox", "deliver")
    (stuck,) = [d for d in bare("outbox")["deliveries"] if d["handler"] == "mirror"]
    assert "has no MLflow version of 'support-bot'" in stuck["last_error"]
    refused = bare("register", "chat", "--root", "--owner", "ana", "--reason", "r",
                   "--prompt", "p", "--score", "score=0.9", "--mlflow-version", "1",
                   "--weights", "x", ok=False)
    assert "give it or --weights, not both" in refused


def test_import_adopts_an_mlflow_model_once(
        mlflow: Mlflow, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    mlflow.call("POST", "registered-models/create", json={"name": "legacy"})
    for i, score in enumerate((0.7, 0.8, 0.75), start=1):
        mlflow.add_version("legacy", f"s3://acme/legacy/{i}", mlflow.run_with(score=score),
                           tags={"team": "search"})
    mlflow.set_alias("legacy", "production", "2")
    mlflow.set_alias("legacy", "champion", "3")
    mlflow.call("POST", "registered-models/create", json={"name": "unscored"})
    mlflow.add_version("unscored", "s3://acme/unscored/1")
    (tmp_path / "playbook.toml").write_text(
        '[models.legacy]\nmetric = "score"\n\n[models.unscored]\nmetric = "score"\n')
    cli = Cli(tmp_path, capsys)

    done = cli("import", "mlflow", "--uri", mlflow.url, "--name", "legacy")
    assert [v["mlflow_version"] for v in done["versions"]] == ["1", "2", "3"]
    assert all(v["created"] for v in done["versions"])
    ids = [v["version"] for v in done["versions"]]
    assert done["tags"] == [{"tag": "production", "version": ids[1]}]
    assert "champion" in done["not_imported"][0]
    third = cli("show", f"legacy@{ids[2]}")
    assert third["components"]["weights"]["ref"] == "models:/legacy/3"
    assert third["parent"] == ids[1] and third["scores"] == {"score": 0.75}
    assert "source s3://acme/legacy/3" in third["reason"] and "team=search" in third["reason"]

    again = cli("import", "mlflow", "--uri", mlflow.url, "--name", "legacy")
    assert not any(v["created"] for v in again["versions"]) and again["tags"] == []
    assert len(cli("history", "legacy")) == 1  # production set once

    refused = cli("import", "mlflow", "--uri", mlflow.url, "--name", "unscored", ok=False)
    assert "recorded no 'score'" in refused and "nothing was imported" in refused
    assert cli("versions", "unscored") == []
    missing = cli("import", "mlflow", "--uri", mlflow.url, "--name", "nope",
                  "--model", "legacy", ok=False)
    assert "has no 'nope'" in missing
