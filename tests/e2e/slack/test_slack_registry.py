"""/registry, /audit and /experiment through signed requests."""

from __future__ import annotations

import json

from slack_harness import Harness

from core.plays.attribute import attribute


def _ask(slack: Harness, text: str) -> dict[str, object]:
    return slack.reply(slack.command("/registry", text, channel="CGEN", channel_name="general"))


def test_registry_reads_answer_only_the_asker(slack: Harness) -> None:
    v1, v2 = slack.chain()
    versions = _ask(slack, "versions chat limit 5")
    assert versions["response_type"] == "ephemeral"
    text = json.dumps(versions["blocks"])
    assert v1.short in text and v2.short in text and "production" in text
    # One line per version, as any screen shows it: no fixed-width table to cut off; people
    # as mentions, times in each reader's zone.
    lines = [line for b in versions["blocks"][1:] for line in b["text"]["text"].split("\n")]
    assert "```" not in text and len(lines) == 2
    assert lines[0].startswith(f"`{v2.short}` · *production* · score=0.9 · by <@UANA> · <!date^")

    shown = json.dumps(_ask(slack, f"show {v2.id[:10]}".replace(v2.id[:10], v2.short))["blocks"])
    assert v2.short in shown and "score=0.9" in shown and "production" in shown

    history = json.dumps(_ask(slack, "history chat tag production")["blocks"])
    assert history.count("promote by <@UANA>") == 2 and "<!date^" in history

    diff = _ask(slack, f"diff {v1.short} {v2.short}")
    assert "changed prompt" in str(diff["text"])

    unknown = _ask(slack, "show chat@deadbeef")
    assert "no version chat@deadbeef" in str(unknown["text"])


def test_registry_gc_runs_play_6(slack: Harness) -> None:
    slack.chain()
    dry = _ask(slack, "gc chat dry-run")
    assert dry["response_type"] == "ephemeral" and "dry run" in str(dry["text"])
    real = _ask(slack, "gc")
    assert real["response_type"] == "in_channel" and "freed 0 bytes" in str(real["text"])


def test_audit_posts_a_summary_and_the_bundle_as_a_file_in_its_thread(slack: Harness) -> None:
    _, v2 = slack.chain()
    attribute([{"request_id": "req-42", "model": "chat", "version": v2.short}],
              slack.playbook.ctx)
    slack.command("/audit", "req-42", channel="CGEN", channel_name="general")
    summary = slack.fake.wait_for(
        lambda: slack.fake.called("chat.postMessage", channel="CGEN"))[0]
    assert v2.short in summary.params["text"]
    done = slack.fake.wait_for(lambda: slack.fake.called("files.completeUploadExternal"))[0]
    assert done.params["channel_id"] == "CGEN"
    posts = slack.fake.called("chat.postMessage")
    assert done.params["thread_ts"] == f"1700000000.{posts.index(summary) + 1:06d}"  # its ts
    (upload,) = slack.fake.called("upload")
    bundle = json.loads(upload.params["content"])
    assert bundle["request_id"] == "req-42" and bundle["version"]["id"] == v2.id
    assert bundle["lineage"][0]["id"] == v2.id

    slack.command("/rollback", "chat", channel="CINC", channel_name="incidents")
    slack.idle()
    slack.command("/audit", "req-42", channel="CGEN", channel_name="general")
    again = slack.fake.wait_for(
        lambda: slack.fake.called("chat.postMessage", channel="CGEN")[1:])[0]
    incident = slack.playbook.ctx.uow  # the incident the rollback opened, by its role
    with incident() as uow:
        [opened] = uow.incidents.list("chat", limit=1)
    assert f"incident {opened.id}: rolled back from this version" in json.dumps(
        again.params["blocks"])

    missing = slack.reply(slack.command("/audit", "req-nope"))
    assert "no attribution record" in str(missing["text"])


def test_experiment_branches_from_the_parent_with_its_changes(slack: Harness) -> None:
    v1, _ = slack.chain()
    sent = slack.command("/experiment", f'chat terse from {v1.short} prompt “Answer briefly, '
                                        'in plain words please.” config temperature=0.2 '
                                        'tools.search=true because shorter answers')
    slack.idle()
    reply = slack.reply(sent)
    assert reply["response_type"] == "in_channel"
    assert "experiment/terse" in str(reply["text"])
    with slack.playbook.ctx.uow() as uow:
        tag = uow.tags.get("chat", "experiment/terse")
        assert tag is not None
        version = uow.versions.get("chat", tag.version_id)
    assert version is not None and version.parent_id == v1.id
    assert version.components.prompt == "Answer briefly, in plain words please."
    assert version.components.config == {"temperature": 0.2, "tools": {"search": True}}
    assert version.reason == "shorter answers" and version.scores == {"score": 0.38}
    said = json.dumps(reply["blocks"])  # under production's 0.9: not told to promote it
    assert "Not promotable as it is" in said and "below production" in said
    assert "/promote" not in said

    usage = slack.reply(slack.command("/experiment", "chat terse prompt hi"))
    assert "missing `from &lt;version&gt;`" in str(usage["text"])  # Slack shows "<version>"
    assert "usage:" in str(usage["text"])
