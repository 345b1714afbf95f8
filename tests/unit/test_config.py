"""playbook.toml: every bad key reported with its path; defaults merge into each model."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from core.config import ModelPolicy, PlaybookConfig, load_config, parse_config
from core.errors import ConfigError


def problems(doc: str | dict[str, Any]) -> list[str]:
    data = tomllib.loads(doc) if isinstance(doc, str) else doc
    with pytest.raises(ConfigError) as err:
        parse_config(data, "playbook.toml")
    assert err.value.code == "CONFIG_INVALID"
    assert "playbook init --print" in (err.value.hint or "")
    for p in err.value.problems:
        assert p in str(err.value)  # the message carries every problem, not just the first
    return err.value.problems


def policy(doc: str, name: str = "chat") -> ModelPolicy:
    return parse_config(tomllib.loads(doc)).model(name)


def test_defaults_merge_into_every_model_and_models_win() -> None:
    config = parse_config(tomllib.loads("""
        [defaults]
        metric = "accuracy"
        retention_days = 30
        evaluator = { http = "https://eval.internal/run" }

        [models.chat]
        retention_days = 7

        [models.ranker]
        metric = "loss"
        higher_is_better = false
        evaluator = { command = "make eval", timeout_s = 5 }
    """))
    chat, ranker = config.model("chat"), config.model("ranker")
    assert (chat.metric, chat.retention_days, chat.name) == ("accuracy", 7, "chat")
    assert chat.evaluator is not None and chat.evaluator.http == "https://eval.internal/run"
    assert (ranker.metric, ranker.retention_days, ranker.higher_is_better) == ("loss", 30, False)
    assert ranker.evaluator is not None and ranker.evaluator.command == "make eval"
    assert ranker.evaluator.http is None and ranker.evaluator.timeout_s == 5


def test_built_in_defaults() -> None:
    p = policy("[models.chat]\n")
    assert (p.stakes, p.metric, p.higher_is_better, p.min_score, p.evaluator) == (
        "low", "score", True, None, None)
    assert (p.experiment_retention_days, p.retention_days, p.approval_ttl_hours) == (14, 90, 24)
    assert (p.max_time_to_rollback_s, p.regression_tolerance) == (300, 0)
    assert p.required_approvals == 0


def test_every_bad_key_is_reported_with_its_path() -> None:
    found = problems("""
        [defaults]
        retention_days = 0
        colour = "red"

        [models.chat]
        stakes = "extreme"
        min_score = "high"
        evaluator = { http = "https://a", command = "b" }

        [models.ranker]
        approval_ttl_hours = -1
        typo_key = 1
        evaluator = { http = "ftp://nope" }

        [models.BadName]
        metric = "x"

        [extras]
        a = 1
    """)
    text = "\n".join(found)
    for path in ("defaults.retention_days", "defaults.colour", "models.chat.stakes",
                 "models.chat.min_score", "models.chat.evaluator",
                 "models.ranker.approval_ttl_hours", "models.ranker.typo_key",
                 "models.ranker.evaluator", "models.BadName",
                 "extras: unknown top-level table"):
        assert any(p.startswith(path) for p in found), (path, text)
    assert "give exactly one of" in text and "http:// or https://" in text
    assert not any("Value error" in p for p in found)


def test_stakes_need_enough_approvers() -> None:
    (high,) = problems('[models.triage]\nstakes = "high"\n')
    assert high.startswith("models.triage: ") and "approvers = [...] or approver_group" in high
    (regulated,) = problems('[models.credit]\nstakes = "regulated"\napprovers = ["bob"]\n')
    assert "at least 2 approvers" in regulated
    assert policy('[models.c]\nstakes = "regulated"\napprover_group = "S1"\n',
                  "c").required_approvals == 2
    assert policy('[models.t]\nstakes = "high"\napprovers = ["bob"]\n', "t").required_approvals == 1


@pytest.mark.parametrize("doc", [{"models": []}, {"models": {"chat": 3}}, {"defaults": 1},
                                 {"models": {"-x": {}}}, {"models": {"a" * 65: {}}}])
def test_shapes_that_are_not_tables(doc: dict[str, Any]) -> None:
    assert problems(doc)


def test_an_undeclared_model_says_how_to_declare_it() -> None:
    config = parse_config({"models": {"chat": {}, "ranker": {}}}, "/etc/playbook.toml")
    with pytest.raises(ConfigError) as err:
        config.model("vision")
    assert "'vision' is not declared in /etc/playbook.toml" in str(err.value)
    assert "declared: chat, ranker" in str(err.value)
    assert "[models.vision]" in (err.value.hint or "")
    assert "playbook init" in (err.value.hint or "")
    with pytest.raises(ConfigError) as none:
        PlaybookConfig(models={}).model("chat")
    assert "declared: none" in str(none.value)


def test_the_gate_helpers() -> None:
    up = policy('[models.chat]\nmetric = "acc"\nmin_score = 0.5\n')
    assert up.passes({"acc": 0.5}) and not up.passes({"acc": 0.49}) and not up.passes({})
    assert up.at_least_as_good(0.5, 0.5) and not up.at_least_as_good(0.4, 0.5)
    down = policy('[models.chat]\nmetric = "loss"\nhigher_is_better = false\nmin_score = 0.3\n')
    assert down.passes({"loss": 0.3}) and not down.passes({"loss": 0.31})
    assert down.at_least_as_good(0.2, 0.3) and not down.at_least_as_good(0.4, 0.3)
    assert policy('[models.chat]\nmetric = "m"\n').passes({"m": -1e9})


def test_load_config_reads_a_file(tmp_path: Path) -> None:
    path = tmp_path / "playbook.toml"
    path.write_text('[models.chat]\nmetric = "accuracy"\n', encoding="utf-8")
    config = load_config(path)
    assert config.path == str(path) and config.model("chat").metric == "accuracy"


def test_load_config_explains_what_is_wrong(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as missing:
        load_config(tmp_path / "nope.toml")
    assert "playbook init" in (missing.value.hint or "")
    bad = tmp_path / "bad.toml"
    bad.write_text("[models.chat\n", encoding="utf-8")
    with pytest.raises(ConfigError) as syntax:
        load_config(bad)
    assert "not valid TOML" in str(syntax.value)
    invalid = tmp_path / "invalid.toml"
    invalid.write_text('[models.chat]\nstakes = "x"\n', encoding="utf-8")
    with pytest.raises(ConfigError) as err:
        load_config(invalid)
    assert str(invalid) in str(err.value) and err.value.problems[0].startswith(
        "models.chat.stakes")


def test_a_config_is_frozen() -> None:
    config = parse_config({"models": {"chat": {}}})
    with pytest.raises(ValidationError):
        config.model("chat").stakes = "high"  # type: ignore[misc]


def test_a_bad_default_is_reported_once_where_it_is_written() -> None:
    found = problems("""
        [defaults]
        retention_days = 0
        colour = "red"

        [models.chat]
        [models.ranker]
        retention_days = -3
    """)
    assert [p.split(":")[0] for p in found] == [
        "defaults.retention_days", "defaults.colour", "models.ranker.retention_days"]


@pytest.mark.parametrize(("line", "named", "says"), [
    ("approval_ttl_hours = inf", "approval_ttl_hours", "finite"),
    ("min_score = nan", "min_score", "finite"),
    ("evaluator = { command = \"e\", timeout_s = inf }", "evaluator.timeout_s", "finite"),
    ("experiment_retention_days = 999999999", "experiment_retention_days", "less than"),
    ("approval_ttl_hours = 1e9", "approval_ttl_hours", "less than"),
    ("max_time_to_rollback_s = true", "max_time_to_rollback_s", "not true"),
    ("canary = { min_sample = true }", "canary", "not true"),
    ("min_score = false", "min_score", "not false"),
])
def test_non_finite_absurd_or_boolean_numbers_are_refused(line: str, named: str,
                                                          says: str) -> None:
    found = problems(f"[models.chat]\n{line}\n")
    assert len(found) == 1 and found[0].startswith(f"models.chat.{named}"), found
    assert says in found[0], found


def test_an_approver_listed_twice_is_refused() -> None:
    (found,) = problems('[models.credit]\nstakes = "regulated"\napprovers = ["U1", "U1"]\n')
    assert found.startswith("models.credit") and "U1 more than once" in found


def test_a_config_nested_too_deep_is_one_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "playbook.toml"
    path.write_text("x = " + "[" * 3000 + "]" * 3000 + "\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="nests tables or arrays too deeply"):
        load_config(path)


def test_config_problems_are_said_without_python_words(tmp_path: Path) -> None:
    bad = tmp_path / "playbook.toml"
    bad.write_text('[models.chat]\nmetric = "score"\napprovers = "U1"\n'
                   'evaluator = { cmd = "x" }\nstakes = "medium"\nretention_days = "ten"\n'
                   "canary = 5\n")
    with pytest.raises(ConfigError) as caught:
        load_config(bad)
    said = str(caught.value)
    for plain in ("models.chat.stakes: must be 'low', 'high' or 'regulated'",
                  'models.chat.approvers: must be a list, e.g. ["U0ANA", "U0BEN"]',
                  "models.chat.evaluator.cmd: is not a key Playbook knows (a typo?)",
                  "models.chat.retention_days: must be a whole number",
                  "models.chat.canary: must be a table"):
        assert plain in said, said
    for python in ("Input should", "tuple", "Spec", "dictionary", "instance of"):
        assert python not in said, said
