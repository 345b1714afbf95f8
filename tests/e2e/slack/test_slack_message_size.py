"""Slack refuses a message whose blocks hold more than about 12,000 characters of text
(`msg_blocks_too_long`), even when each block is within its own limit; the stand-in refuses it
too. A digest of many busy models, once one message that Slack refused (and the digest then
stopped), comes in parts: the first in the channel, the rest in its thread, each taken."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from slack_fake_api import FakeSlack
from slack_harness import TOKEN, run

from bot.shared.slack_rules import BLOCKS_TEXT, block_text

MODELS = [f"model-{n:02d}" for n in range(40)]
CONFIG = """
[defaults]
metric = "score"
release_channel = "CREL"

[schedule]
timezone = "UTC"
catch_up_minutes = 0

[[schedule.digest]]
channel = "CREL"
at = "09:00"
""" + "".join(f'\n[models.{m}]\nstakes = "low"\nowner = "UANA"\n' for m in MODELS)


@pytest.fixture
def busy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
         capsys: pytest.CaptureFixture[str]) -> None:
    """40 models, each with two versions promoted in turn today."""
    (tmp_path / "playbook.toml").write_text(CONFIG)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("PLAYBOOK_CONFIG", str(tmp_path / "playbook.toml"))
    monkeypatch.setenv("PLAYBOOK_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("PLAYBOOK_USER", "UANA")
    for name in ("SLACK_BOT_TOKEN", "SLACK_API_URL", "SLACK_SIGNING_SECRET", "DATABASE_URL"):
        monkeypatch.delenv(name, raising=False)
    for model in MODELS:
        parent = None
        for n, score in enumerate((0.5, 0.6)):
            lineage = ["--root"] if parent is None else ["--parent", parent]
            code, out, err = run(capsys, "--json", "register", model, *lineage, "--owner",
                                 "UANA", "--reason", f"step {n}", "--prompt", f"p{n}",
                                 "--score", f"score={score}")
            assert code == 0, err
            parent = f"{model}@{json.loads(out)['id'][:12]}"
            assert run(capsys, "promote", model, parent)[0] == 0


def test_the_stand_in_refuses_too_much_text_as_slack_does(fake: FakeSlack) -> None:
    import httpx

    blocks = [{"type": "section", "text": {"type": "mrkdwn", "text": "x" * 2900}}] * 5
    answer = httpx.post(f"{fake.api_url}chat.postMessage", json={
        "channel": "CREL", "text": "t", "blocks": blocks},
        headers={"Authorization": f"Bearer {TOKEN}"}).json()
    assert answer["ok"] is False and answer["error"] == "msg_blocks_too_long"
    assert block_text(blocks) > BLOCKS_TEXT


def test_a_digest_of_many_busy_models_is_posted_in_parts_slack_takes(
        busy: None, fake: FakeSlack, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SLACK_BOT_TOKEN", TOKEN)
    monkeypatch.setenv("SLACK_API_URL", fake.api_url)
    code, out, err = run(capsys, "digest", "--now")
    assert code == 0, err
    posts = fake.called("chat.postMessage", channel="CREL")
    digest = [p for p in posts if "Daily digest" in str(p.params["text"])]
    assert len(digest) >= 2 and all(p.refused is None for p in digest)  # every part taken
    first, *rest = digest
    assert not first.params.get("thread_ts")  # the first in the channel, the rest in its thread
    assert all(p.params.get("thread_ts") for p in rest)
    assert len({p.params["thread_ts"] for p in rest}) == 1
    shown = " ".join(json.dumps(p.params["blocks"]) for p in digest)
    assert all(shown.count(f"*{m}*") == 1 for m in MODELS)  # every model, once
    assert all(len(str(p.params["text"])) < 4000 for p in digest)

    # /registry digest and `digest --print` say the same parts.
    code, out, _ = run(capsys, "--json", "digest", "--now", "--print")
    [printed] = json.loads(out)
    assert len(printed["parts"]) == len(digest)
