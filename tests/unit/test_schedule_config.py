"""The [schedule] table of playbook.toml: defaults, every bad value refused with its key path,
channel references, digest coverage, and the CLI refusing a bad schedule at start."""

from __future__ import annotations

import json
import tomllib
from datetime import time
from pathlib import Path
from typing import Any

import pytest

from bot.cli.main import main
from core.config import PlaybookConfig, parse_config
from core.errors import ConfigError
from core.schedule import DigestSchedule, ScheduleConfig, parse_clock

MODELS = """
[models.chat]
[models.ranker]
[models.alpha]
"""


def parsed(doc: str) -> PlaybookConfig:
    return parse_config(tomllib.loads(doc), "playbook.toml")


def problems(doc: str | dict[str, Any]) -> list[str]:
    data = tomllib.loads(doc) if isinstance(doc, str) else doc
    with pytest.raises(ConfigError) as err:
        parse_config(data, "playbook.toml")
    assert err.value.code == "CONFIG_INVALID"
    assert str(err.value).startswith("playbook.toml is not valid:")
    for p in err.value.problems:
        assert p in str(err.value)  # one message carries every problem
    return err.value.problems


def keys(found: list[str]) -> list[str]:
    return [p.split(": ", 1)[0] for p in found]


def test_no_schedule_table_gives_the_defaults() -> None:
    config = parsed(MODELS)

    s = config.schedule
    assert s == ScheduleConfig()
    assert (s.timezone, s.gc_at, s.rehearsal_check_at) == ("UTC", "03:00", "10:00")
    assert (s.sweep_every_minutes, s.catch_up_minutes, s.claim_timeout_minutes) == (5, 180, 10)
    assert s.digest == ()
    assert sorted(config.models) == ["alpha", "chat", "ranker"]  # models untouched
    assert config.channel_refs() == []


def test_an_empty_schedule_table_is_the_defaults_too() -> None:
    assert parsed(MODELS + "\n[schedule]\n").schedule == ScheduleConfig()


@pytest.mark.parametrize(("value", "why"), [
    ("9:00", "'9:00' is not a time of day"),
    ("24:00", "'24:00' is not a time of day"),
    ("noon", "'noon' is not a time of day"),
    ("09:60", "'09:60' is not a time of day"),
    ("09:00:60", "'09:00:60' is not a time of day"),
])
def test_a_bad_time_is_refused_with_its_key_and_the_format(value: str, why: str) -> None:
    found = problems(MODELS + f'\n[schedule]\ngc_at = "{value}"\n')

    assert found == [f'schedule.gc_at: {why}; write "HH:MM" or "HH:MM:SS" (24-hour clock), '
                     'e.g. "09:00"']


def test_every_bad_value_is_reported_at_once_with_its_key_path() -> None:
    found = problems(MODELS + """
        [schedule]
        timezone = "Mars/Olympus"
        gc_at = "9:00"
        rehearsal_check_at = "24:00"
        sweep_every_minutes = 7
        catch_up_minutes = -1
        claim_timeout_minutes = 0
        bogus = 1

        [[schedule.digest]]
        channel = "#ml"
        at = "noon"
        timezone = "Nowhere/Special"
        colour = "red"
    """)

    assert sorted(keys(found)) == sorted([
        "schedule.timezone", "schedule.gc_at", "schedule.rehearsal_check_at",
        "schedule.sweep_every_minutes", "schedule.catch_up_minutes",
        "schedule.claim_timeout_minutes", "schedule.bogus", "schedule.digest.0.at",
        "schedule.digest.0.timezone", "schedule.digest.0.colour"])
    by_key = dict(p.split(": ", 1) for p in found)
    assert by_key["schedule.timezone"].startswith("'Mars/Olympus' is not a known time zone")
    assert "IANA" in by_key["schedule.timezone"] and "Europe/Berlin" in by_key["schedule.timezone"]
    assert by_key["schedule.digest.0.timezone"].startswith("'Nowhere/Special' is not a known")
    assert by_key["schedule.sweep_every_minutes"].startswith("7 does not divide an hour")
    assert "1, 2, 3, 4, 5, 6, 10, 12, 15, 20, 30, 60" in by_key["schedule.sweep_every_minutes"]
    assert "greater than or equal to 0" in by_key["schedule.catch_up_minutes"]
    assert "greater than or equal to 1" in by_key["schedule.claim_timeout_minutes"]
    assert "is not a key Playbook knows" in by_key["schedule.bogus"]
    assert "is not a key Playbook knows" in by_key["schedule.digest.0.colour"]
    assert not any(p.startswith("Value error") or ", Value error" in p for p in found)


@pytest.mark.parametrize(("table", "key"), [
    ("sweep_every_minutes = 7", "schedule.sweep_every_minutes"),
    ("sweep_every_minutes = 0", "schedule.sweep_every_minutes"),
    ("catch_up_minutes = -5", "schedule.catch_up_minutes"),
    ("catch_up_minutes = 1441", "schedule.catch_up_minutes"),
    ("unknown_key = true", "schedule.unknown_key"),
    ('timezone = "Europe/Berlinn"', "schedule.timezone"),
    ('rehearsal_check_at = "10"', "schedule.rehearsal_check_at"),
])
def test_each_bad_value_alone_is_refused(table: str, key: str) -> None:
    assert keys(problems(MODELS + f"\n[schedule]\n{table}\n")) == [key]


def test_an_unknown_key_in_a_digest_is_refused() -> None:
    found = problems(MODELS + """
        [[schedule.digest]]
        channel = "#ml"
        time = "09:00"
    """)
    assert found == ["schedule.digest.0.time: is not a key Playbook knows (a typo?)"]


def test_a_digest_without_a_channel_is_refused() -> None:
    assert keys(problems(MODELS + '\n[[schedule.digest]]\nat = "09:00"\n')) == [
        "schedule.digest.0.channel"]


def test_a_digest_naming_an_undeclared_model_is_refused() -> None:
    found = problems(MODELS + """
        [[schedule.digest]]
        channel = "#ml"
        models = ["chat"]

        [[schedule.digest]]
        channel = "#ops"
        models = ["ranker", "ghost", "chatt"]
    """)
    assert found == ["schedule.digest.1.models: 'ghost' is not a declared model",
                     "schedule.digest.1.models: 'chatt' is not a declared model"]


@pytest.mark.parametrize(("first", "second"), [
    ("#ml", "#ml"), ("#ml", "ml"), ("ml", "#ML"), ("#Ml-Releases", "ml-releases")])
def test_two_digests_for_one_channel_are_refused(first: str, second: str) -> None:
    found = problems(MODELS + f"""
        [[schedule.digest]]
        channel = "{first}"
        models = ["chat"]

        [[schedule.digest]]
        channel = "{second}"
        models = ["ranker"]
    """)
    assert found == [f"schedule.digest: two digests for channel {second!r}; merge their models "
                     "into one [[schedule.digest]]"]


@pytest.mark.parametrize("raw", [3, "daily", ["09:00"], True])
def test_a_schedule_that_is_not_a_table_is_refused(raw: Any) -> None:
    data = tomllib.loads(MODELS) | {"schedule": raw}
    assert problems(data) == ["schedule: must be a table"]


def test_schedule_problems_come_with_model_problems() -> None:
    found = problems("""
        [models.chat]
        stakes = "enormous"

        [schedule]
        gc_at = "3am"
    """)
    assert sorted(keys(found)) == ["models.chat.stakes", "schedule.gc_at"]


def test_an_undeclared_digest_model_is_reported_beside_other_schedule_problems() -> None:
    found = problems(MODELS + """
        [schedule]
        gc_at = "9:00"

        [[schedule.digest]]
        channel = "#ml"
        models = ["ghost"]
    """)
    assert sorted(keys(found)) == ["schedule.digest.0.models", "schedule.gc_at"]


def test_a_valid_schedule_with_seconds_and_a_zone_per_digest() -> None:
    config = parsed(MODELS + """
        [models.triage]
        release_channel = "#triage"

        [schedule]
        timezone = "Europe/Berlin"
        gc_at = "02:15:30"
        rehearsal_check_at = "23:59:59"
        sweep_every_minutes = 15
        catch_up_minutes = 0
        claim_timeout_minutes = 3

        [[schedule.digest]]
        channel = "#ml-releases"
        at = "09:00:05"
        timezone = "America/New_York"
        models = ["ranker", "chat"]

        [[schedule.digest]]
        channel = "ops"
    """)

    s = config.schedule
    assert (s.timezone, s.gc_at, s.rehearsal_check_at) == ("Europe/Berlin", "02:15:30",
                                                            "23:59:59")
    assert (s.sweep_every_minutes, s.catch_up_minutes, s.claim_timeout_minutes) == (15, 0, 3)
    ml, ops = s.digest
    assert ml == DigestSchedule(channel="#ml-releases", at="09:00:05",
                                timezone="America/New_York", models=("ranker", "chat"))
    assert ops == DigestSchedule(channel="ops")
    assert (ops.at, ops.timezone, ops.models) == ("09:00", None, None)
    assert (s.zone_of(ml), s.zone_of(ops)) == ("America/New_York", "Europe/Berlin")
    assert (ml.job_id, ops.job_id) == ("digest:#ml-releases", "digest:ops")
    assert parse_clock(s.gc_at) == time(2, 15, 30)
    assert parse_clock(ml.at) == time(9, 0, 5)
    assert config.model("triage").release_channel == "#triage"  # the models are kept


def test_channel_refs_first_mention_first_deduplicated_by_name() -> None:
    config = parsed("""
        [models.chat]
        release_channel = "#ML-Releases"
        incident_channel = "#incidents"

        [models.ranker]
        release_channel = "ml-releases"
        incident_channel = "Incidents"

        [models.triage]
        incident_channel = "#triage-oncall"

        [[schedule.digest]]
        channel = "#digest"

        [[schedule.digest]]
        channel = "triage-oncall"

        [[schedule.digest]]
        channel = "#ml-releases"
    """)

    assert config.channel_refs() == ["#ML-Releases", "#incidents", "#triage-oncall", "#digest"]


def test_digest_models_are_the_listed_ones_or_every_model_sorted() -> None:
    config = parsed(MODELS + """
        [[schedule.digest]]
        channel = "#ML"
        models = ["ranker", "chat"]

        [[schedule.digest]]
        channel = "everything"
    """)

    assert config.digest_models("#ML") == ["ranker", "chat"]  # as listed
    assert config.digest_models("ml") == ["ranker", "chat"]  # '#' and case do not matter
    assert config.digest_models("#Everything") == ["alpha", "chat", "ranker"]
    assert config.digest_models("#not-a-digest-channel") == ["alpha", "chat", "ranker"]
    assert parsed(MODELS).digest_models("#any") == ["alpha", "chat", "ranker"]


def test_an_empty_models_list_is_refused_not_an_empty_digest() -> None:
    found = problems(MODELS + '\n[[schedule.digest]]\nchannel = "#ml"\nmodels = []\n')
    assert [p.split(":")[0] for p in found] == ["schedule.digest.0.models"]


@pytest.mark.parametrize(("line", "says"), [
    ("gc_at = 03:00:00", 'must be quoted: write "03:00:00"'),
    ("sweep_every_minutes = true", "must be a whole number"),
    ('timezone = "localtime"', "not a known time zone"),
])
def test_values_that_would_fail_quietly_are_refused(line: str, says: str) -> None:
    found = problems(MODELS + f"\n[schedule]\n{line}\n")
    assert len(found) == 1 and says in found[0]


# --- the CLI refuses a bad schedule at start ----------------------------------------------


def run_cli(tmp_path: Path, capsys: pytest.CaptureFixture[str], config: str,
            *argv: str) -> tuple[int, str, str]:
    (tmp_path / "playbook.toml").write_text(config)
    code = main(["--config", str(tmp_path / "playbook.toml"), "--home",
                 str(tmp_path / "home"), *argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_playbook_jobs_refuses_a_bad_schedule_in_one_line(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run_cli(tmp_path, capsys, MODELS + """
        [schedule]
        sweep_every_minutes = 7

        [[schedule.digest]]
        channel = "#ml"
        at = "9:00"
    """, "jobs")

    assert code == 1
    assert out == ""
    assert err.startswith("playbook: ") and err.count("\n") == 1, err
    assert "schedule.sweep_every_minutes: 7 does not divide an hour" in err
    assert "schedule.digest.0.at: '9:00' is not a time of day" in err
    assert str(tmp_path / "playbook.toml") in err
    assert not (tmp_path / "home" / "playbook.db").exists()  # refused before any database


def test_playbook_jobs_lists_a_good_schedule(tmp_path: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run_cli(tmp_path, capsys, MODELS + """
        [schedule]
        sweep_every_minutes = 10

        [[schedule.digest]]
        channel = "#ml"
        at = "09:30"
        timezone = "Europe/Berlin"
    """, "--json", "jobs")

    assert (code, err) == (0, "")
    jobs = {j["job"]: j for j in json.loads(out)}
    assert list(jobs) == ["digest:#ml", "gc", "rehearsal-check", "sweep"]
    assert jobs["digest:#ml"]["what"] == "daily digest in #ml at 09:30 Europe/Berlin"
    assert all(j["last"] is None for j in jobs.values())  # nothing has run yet


def test_an_hourly_sweep_is_accepted_and_listed(tmp_path: Path,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run_cli(tmp_path, capsys, MODELS + """
        [schedule]
        sweep_every_minutes = 60
    """, "--json", "jobs")

    assert (code, err) == (0, "")
    sweep = [j for j in json.loads(out) if j["job"] == "sweep"]
    assert sweep and sweep[0]["next"].endswith(":00:00+00:00")
