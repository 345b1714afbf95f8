"""The sandbox server's life, in real processes: a restart keeps the registry, the workspace and
true tips; serving without secrets is the sandbox and never beyond this machine; it does not
mix with the real Slack modes or a real workspace's command prefix; Ctrl-C stops it cleanly."""

from __future__ import annotations

import json
import signal
import subprocess
from pathlib import Path

from sandbox_drive import (
    BEN,
    INCIDENTS,
    RELEASES,
    YOU,
    channel_id,
    click,
    one,
    production,
    run,
    seeded,
    tips_of,
    wait_for,
)
from sandbox_process import EXAMPLE_CONFIG, clean_env, playbook_command, start_sandbox
from testkit.waiting import until


def test_a_restart_keeps_the_registry_and_the_workspace_and_seeds_nothing_new(
        tmp_path: Path) -> None:
    first = start_sandbox(tmp_path)
    try:
        before = seeded(first, "triage"), production(first, "triage")
        run(first, YOU, channel_id(first, RELEASES), f"/promote triage {before[0][0]}")
        card = wait_for(first, YOU, lambda ms: one(ms, says="Promotion request"))
    finally:
        first.stop()
    again = start_sandbox(tmp_path)
    try:
        assert (seeded(again, "triage"), production(again, "triage")) == before
        assert "seeding refused" not in again.output()
        assert "kept from the last run" in again.output()
        kept = one(again.state(BEN)["messages"], says="Promotion request")
        assert kept is not None and kept["ts"] == card["ts"]
        assert click(again, BEN, kept, "approval_approve").json()["ok"]
        wait_for(again, BEN, lambda ms: [m for m in ms if m["ts"] == card["ts"]
                                         and "Approved by" in m["text"]])
    finally:
        again.stop()


def test_without_secrets_serve_is_the_sandbox_and_never_beyond_this_machine(
        tmp_path: Path) -> None:
    s = start_sandbox(tmp_path, flag=False)
    try:
        assert s.http.get("/sandbox/state", params={"user": YOU}).status_code == 200
        assert "SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET are not set, so this is the local " \
               "sandbox" in s.output()
    finally:
        s.stop()
    home = tmp_path / "exposed"
    for flag in ([], ["--sandbox"]):
        done = subprocess.run(
            [*playbook_command(), "--home", str(home), "--config", str(EXAMPLE_CONFIG),
             "serve", *flag, "--host", "0.0.0.0", "--port", "1"],
            env=clean_env(home), capture_output=True, text=True, timeout=60)
        assert done.returncode == 1, done.stderr
        assert "the sandbox listens on this machine only, not on 0.0.0.0" in done.stderr
        assert "--host 127.0.0.1" in done.stderr and "--http-only" in done.stderr
        assert "Traceback" not in done.stderr


def test_a_command_prefix_for_the_real_workspace_leaves_the_sandbox_unprefixed(
        tmp_path: Path) -> None:
    """The page, its tips and the relay know the manifest's plain commands; the sandbox
    clears SLACK_COMMAND_PREFIX for its app, and says so."""
    s = start_sandbox(tmp_path, env={"SLACK_COMMAND_PREFIX": "pb-"})
    try:
        assert "SLACK_COMMAND_PREFIX=pb- is for a real workspace" in s.output()
        incidents = channel_id(s, INCIDENTS)
        run(s, YOU, incidents, "/registry help")
        helped = wait_for(s, YOU, lambda ms: one(ms, says="Playbook commands", ephemeral=True))
        assert "`/rollback <model>" in json.dumps(helped) and "/pb-" not in json.dumps(helped)
        prod = production(s, "triage")
        run(s, YOU, incidents, "/rollback triage because the prefix test")
        until(lambda: production(s, "triage") != prod, "the rollback")
        refused = s.http.post("/sandbox/command", json={"user": YOU, "channel": incidents,
                                                        "text": "/pb-rollback triage"})
        assert refused.status_code == 400 and "/rollback" in refused.text, refused.text
    finally:
        s.stop()


def test_the_sandbox_does_not_mix_with_the_real_slack_modes(tmp_path: Path) -> None:
    base = [*playbook_command(), "--home", str(tmp_path / "home"), "--config",
            str(EXAMPLE_CONFIG), "serve", "--port", "1"]
    env = {**clean_env(tmp_path), "SLACK_BOT_TOKEN": "xoxb-real", "SLACK_SIGNING_SECRET": "s"}
    mixed = subprocess.run([*base, "--sandbox", "--http-only"], capture_output=True,
                           text=True, env=env, timeout=60, check=False)
    assert mixed.returncode == 2 and "not allowed with argument" in mixed.stderr
    seed = subprocess.run([*base, "--seed"], capture_output=True, text=True, env=env,
                          timeout=60, check=False)
    assert seed.returncode == 1 and "--seed" in seed.stderr and "add --sandbox" in seed.stderr


def test_the_tips_follow_the_registry_through_promotions_rollbacks_and_restarts(
        tmp_path: Path) -> None:
    s = start_sandbox(tmp_path)
    try:
        [suggested] = [t for t in tips_of(s, RELEASES) if t.startswith("/promote support ")]
        newest = suggested.split()[2]
        assert "/rollback support because answers got worse" in tips_of(s, INCIDENTS)
        run(s, YOU, channel_id(s, RELEASES), suggested)  # low stakes: production moves now
        wait_for(s, YOU, lambda ms: one(ms, says=f"Promoted {newest}"))
        # What is production now is not suggested again; nothing newer is promotable.
        assert not [t for t in tips_of(s, RELEASES) if t.startswith("/promote support ")]
        run(s, YOU, channel_id(s, INCIDENTS), "/rollback support because answers got worse")
        wait_for(s, YOU, lambda ms: one(ms, says=f"Rolled back {newest}"))
        # The version an incident rolled back from is never offered for /promote again.
        assert not [t for t in tips_of(s, RELEASES) if newest in t]
        before = {name: tips_of(s, name) for name in (RELEASES, INCIDENTS)}
    finally:
        s.stop()
    again = start_sandbox(tmp_path)  # a restart re-seeds nothing, and the tips stay true
    try:
        assert {name: tips_of(again, name) for name in (RELEASES, INCIDENTS)} == before
        assert not [t for t in tips_of(again, RELEASES) if newest in t]
    finally:
        again.stop()


def test_ctrl_c_stops_the_sandbox_without_a_traceback(tmp_path: Path) -> None:
    s = start_sandbox(tmp_path)
    s.http.close()
    s.process.send_signal(signal.SIGINT)  # what Ctrl-C in the terminal sends
    assert s.process.wait(60) == 0
    said = s.output()
    assert "Traceback" not in said and said.rstrip().endswith("playbook: stopped"), said
