"""Two `playbook serve` replicas on one PostgreSQL database deliver every event, none twice,
while one of them is killed in the middle of a delivery."""

from __future__ import annotations

import signal
import subprocess
import textwrap
from collections import Counter
from pathlib import Path

from serve_process import serve, stop, wait_answering
from slack_fake_api import FakeSlack
from slack_harness import SECRET, promoted_twice
from testkit.ports import free_port

from bot import bootstrap
from bot.settings import Settings

MODELS = [f"m{i}" for i in range(6)]
CONFIG = "".join(textwrap.dedent(f"""
    [models.{m}]
    owner = "UANA"
    release_channel = "CREL"
    """) for m in MODELS) + textwrap.dedent("""
    [schedule]
    catch_up_minutes = 0
    """)


def test_every_event_is_delivered_once_though_a_replica_dies_mid_delivery(
        tmp_path: Path, fake: FakeSlack, postgres_url: str) -> None:
    config = tmp_path / "playbook.toml"
    config.write_text(CONFIG)
    promoted = {v.short for vs in promoted_twice(config, tmp_path / "seed", postgres_url,
                                                 MODELS).values() for v in vs}
    fake.hold("chat.postMessage")  # the first announcement hangs in the replica that sent it

    procs: dict[str, subprocess.Popen[str]] = {}
    ports = {}
    try:
        for name in ("a", "b"):
            env = {"SLACK_BOT_TOKEN": f"xoxb-replica-{name}", "SLACK_SIGNING_SECRET": SECRET,
                   "SLACK_API_URL": fake.api_url, "DATABASE_URL": postgres_url,
                   "PLAYBOOK_OUTBOX_LEASE_S": "3"}
            ports[name] = free_port()
            procs[name] = serve(config, tmp_path / name, f"replica-{name}", env, "--port",
                                str(ports[name]), stderr=subprocess.DEVNULL)
        for name, proc in procs.items():
            wait_answering(proc, f"http://127.0.0.1:{ports[name]}/healthz")

        (held,) = fake.wait_for(lambda: [c for c in fake.called("chat.postMessage")
                                         if c.refused == "held"])
        victim = "a" if held.token == "xoxb-replica-a" else "b"
        survivor = "b" if victim == "a" else "a"
        procs[victim].send_signal(signal.SIGKILL)  # no shutdown, no chance to record
        procs[victim].wait(timeout=60)
        fake.drop_held()  # Slack never did what the dead replica asked

        def delivered() -> list[str]:
            return [c.params["text"] for c in fake.called("chat.postMessage", channel="CREL")
                    if c.refused is None]

        fake.wait_for(lambda: len(delivered()) >= len(promoted))
        announced = Counter(t.split(" ")[1] for t in delivered())
        assert set(announced) == promoted and set(announced.values()) == {1}, announced
        assert {c.token for c in fake.called("chat.postMessage") if c.refused is None} \
            >= {f"xoxb-replica-{survivor}"}

        app = bootstrap.build(Settings(migrate=True, config_path=config, home=tmp_path / "check",
                                       database_url=postgres_url, actor="check"))
        try:
            with app.ctx.uow() as uow:
                assert uow.outbox.list() == []  # nothing pending, nothing dead
                assert uow.outbox.counts() == {("notify", "done"): len(promoted)}
        finally:
            app.close()
    finally:
        for proc in procs.values():
            if proc.poll() is None:
                stop(proc)
