"""The scheduler's CLI as a user types it: `playbook jobs`, `playbook digest --now`,
`playbook rehearse MODEL`, and a bad schedule refused at start (`playbook serve` included)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from serve_process import ROOT
from slack_fake_api import FakeSlack
from slack_harness import TOKEN, run


def _ship(capsys: pytest.CaptureFixture[str]) -> list[str]:
    ids = []
    for prompt, parent in (("x" * 60, None), ("x" * 70, 0)):
        args = ["--json", "register", "chat", "--owner", "UANA", "--reason", "r",
                "--prompt", prompt]
        args += ["--root"] if parent is None else ["--parent", ids[parent]]
        code, out, err = run(capsys, *args)
        assert code == 0, err
        ids.append(f"chat@{json.loads(out)['id'][:12]}")
        assert run(capsys, "promote", "chat", ids[-1])[0] == 0
    return ids


def test_jobs_lists_every_job_with_its_next_fire(workspace: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "--json", "jobs")
    assert code == 0
    jobs = {j["job"]: j for j in json.loads(out)}
    assert set(jobs) == {"digest:CREL", "gc", "rehearsal-check", "sweep"}
    assert jobs["digest:CREL"]["next"].endswith("09:00:00+00:00")
    assert jobs["digest:CREL"]["last"] is None
    code, out, _ = run(capsys, "jobs")
    assert "digest:CREL" in out and "next" in out


def test_digest_now_posts_to_slack_or_prints(workspace: Path, fake: FakeSlack,
                                             capsys: pytest.CaptureFixture[str],
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    _first, second = _ship(capsys)
    code, out, _ = run(capsys, "digest", "--now", "--print")
    assert code == 0 and f"production `chat@{second.split('@')[1]}`" in out
    assert "<!date" not in out  # Slack's markup is made readable
    assert not fake.calls

    # Without Slack here it is due, as the schedule makes it: a server posts it.
    code, out, err = run(capsys, "--json", "digest", "--now")
    assert code == 0, err
    assert json.loads(out) == {"posted": [], "due": ["CREL"]}
    code, out, _ = run(capsys, "--json", "outbox")
    (waiting,) = [d for d in json.loads(out)["deliveries"] if d["name"] == "DigestDue"]
    assert waiting["state"] == "pending" and waiting["handler"] == "notify"
    assert not fake.calls

    monkeypatch.setenv("SLACK_BOT_TOKEN", TOKEN)
    monkeypatch.setenv("SLACK_API_URL", fake.api_url)
    code, out, err = run(capsys, "digest", "--now")
    assert code == 0, err
    assert out.strip() == "digest posted to CREL"
    posts = [p for p in fake.called("chat.postMessage", channel="CREL")
             if "Daily digest" in str(p.params["text"])]
    assert len(posts) == 2  # the one made due earlier went out too, each once
    assert all(second in json.dumps(p.params) and p.refused is None for p in posts)

    fake.fail("chat.postMessage", "channel_not_found")
    code, _, err = run(capsys, "digest", "--now", "--channel", "CGEN")
    assert code == 1 and "the digest for CGEN was not posted: " in err
    assert "channel_not_found" in err and "playbook outbox" in err
    assert [c.refused for c in fake.called("chat.postMessage", channel="CGEN")] == [
        "channel_not_found"]
    code, out, _ = run(capsys, "--json", "outbox")
    assert [d["name"] for d in json.loads(out)["deliveries"]] == ["DigestDue"]  # to retry


def test_rehearse_from_the_cli_leaves_production_and_posts_when_slack_is_set(
        workspace: Path, fake: FakeSlack, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    code, _, err = run(capsys, "rehearse", "chat")
    assert code == 1 and "no production version" in err
    first, second = _ship(capsys)
    code, out, err = run(capsys, "--json", "rehearse", "chat")
    assert code == 0, err
    result = json.loads(out)
    assert result["production"] == second and result["target"] == first
    assert result["rehearsal"] is True and result["posted_to"] is None
    code, out, _ = run(capsys, "--json", "tags", "chat")
    tags = {t["tag"]: t for t in json.loads(out)}
    assert tags["production"]["version"].startswith(second.split("@")[1])
    assert tags["production"]["revision"] == 2  # untouched by the rehearsal
    assert tags["rehearsal"]["version"].startswith(first.split("@")[1])

    monkeypatch.setenv("SLACK_BOT_TOKEN", TOKEN)
    monkeypatch.setenv("SLACK_API_URL", fake.api_url)
    code, out, err = run(capsys, "rehearse", "chat")
    assert code == 0, err
    assert "posted to         CINC" in out
    # The first drill, run without Slack, was not lost: its posts go out now too.
    posts = fake.called("chat.postMessage", channel="CINC")
    assert len(posts) == 6 and all(p.refused is None for p in posts)
    records = [p for p in posts if not p.params.get("thread_ts")]
    verdicts = [p for p in posts if "within the 300 s budget" in str(p.params["text"])]
    assert len(records) == 2 and all("Rehearsal" in str(r.params["text"]) for r in records)
    assert len(verdicts) == 2 and all(v.params.get("thread_ts") for v in verdicts)


@pytest.mark.parametrize(("bad", "named"), [
    ('at = "9am"', "schedule.digest.0.at"),
    ('timezone = "Mars/Olympus"', "schedule.timezone"),
])
def test_a_bad_schedule_is_refused_at_start(workspace: Path, bad: str, named: str,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    text = workspace.read_text()
    key = bad.split(" = ")[0]
    original = 'at = "09:00"' if key == "at" else 'timezone = "UTC"'
    workspace.write_text(text.replace(original, bad))
    code, _, err = run(capsys, "jobs")
    assert code == 1 and named in err and err.count("\n") == 1

    proc = subprocess.run(
        [sys.executable, "-m", "bot.cli.main", "serve", "--port", "0"],
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": ROOT, "PLAYBOOK_CONFIG": str(workspace),
             "PLAYBOOK_HOME": str(workspace.parent / "home"), "SLACK_BOT_TOKEN": TOKEN,
             "SLACK_SIGNING_SECRET": "s"},
        capture_output=True, text=True, timeout=60)
    assert proc.returncode == 1 and named in proc.stderr
