"""The scheduler's jobs against the real Slack app and the Web API stand-in, with time under
the test's control: jobs are fired for a chosen scheduled time, never waited for."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path

from slack_harness import Harness
from testkit.claims import Claims

from bot.scheduler import tasks
from bot.scheduler.service import Scheduler
from bot.slack.blocks.digest import REHEARSE_ACTION
from core.commands import CollectGarbage, Register, StartExperiment
from core.domain import PRODUCTION, REHEARSAL, Attribution, Version
from core.plays import collect_garbage, register, start_experiment


class Jobs(Scheduler):
    """The scheduler, and after each run the outbox's delivery of what it made due: posts
    are the notifier's, from the scheduler's events."""

    def __init__(self, slack: Harness, owner: str | None = None) -> None:
        super().__init__(slack.playbook, owner)
        self._slack = slack

    def fire(self, job_id: str, scheduled_at: datetime) -> str | None:
        out = super().fire(job_id, scheduled_at)
        self._slack.idle()
        return out

    def catch_up(self) -> list[str]:
        out = super().catch_up()
        self._slack.idle()
        return out

    def reclaim(self) -> list[str]:
        out = super().reclaim()
        self._slack.idle()
        return out

    def retry_missed(self) -> list[str]:
        out = super().retry_missed()
        self._slack.idle()
        return out


def _today(slack: Harness, hour: int) -> datetime:
    now = slack.clock.now()
    return now.replace(hour=hour, minute=0, second=0, microsecond=0)


def _posts(slack: Harness, channel: str) -> list[dict[str, object]]:
    return [c.params for c in slack.fake.called("chat.postMessage", channel=channel)]


def _text(params: dict[str, object]) -> str:
    return json.dumps(params.get("blocks")) + str(params.get("text"))


def test_digest_reports_the_last_day_from_the_registry(slack: Harness) -> None:
    _good, bad = slack.regressed()
    slack.command("/rollback", "chat because answers got vague")
    slack.idle()
    slack.promote_now("chat", bad, override="the vague answers are fixed")
    slack.command("/rehearse", "chat", channel="CINC")
    slack.idle()
    risky = slack.register("risky", "r" * 50)
    request = slack.reply(slack.command("/promote", f"risky {risky.short}", channel="CREL",
                                        channel_name="releases"))
    assert "Approval requested" in str(request["text"])
    start_experiment(StartExperiment.parse(
        model="chat", name="warm", components={"prompt": "w" * 70}, owner="UANA",
        reason="try", parent=bad.short, scores={"score": 0.7}, actor="UANA"),
        slack.playbook.ctx)
    with slack.playbook.ctx.uow() as uow:
        uow.attributions.add_many([Attribution(f"r{i}", "chat", bad.id, slack.clock.now())
                                   for i in range(5)])
        uow.commit()
        rehearsal = uow.incidents.list("chat", limit=1, rehearsal=True)[0]
        incident = uow.incidents.list("chat", limit=1, rehearsal=False)[0]
    slack.idle()  # the plays' own posts are out
    scheduler = Jobs(slack)
    before = len(slack.fake.calls)

    assert scheduler.fire("digest:CREL", _today(slack, 9)) is not None
    (digest,) = _posts(slack, "CREL")[-1:]
    text = _text(digest)
    for expected in (f"production `{bad.short}`", "rollback", incident.id, rehearsal.id,
                     f"time to rollback {rehearsal.time_to_rollback_s:.2f} s",
                     "answers got vague", request_id(request), "experiment/warm",
                     "5 requests attributed", "*risky*", "No GC cycle has run yet"):
        assert expected in text, expected
    assert "*slow*" not in text  # the CREL digest covers chat and risky only
    assert "A quiet day" not in text

    assert scheduler.fire("digest:CREL", _today(slack, 9)) is None  # posted once per slot
    assert len(slack.fake.calls) == before + 1


def request_id(reply: dict[str, object]) -> str:
    found = [w.strip("`*.,") for w in json.dumps(reply).split() if w.strip("`*.,\"").startswith(
        "apr-")]
    assert found, reply
    return found[0].strip("\"")


def test_a_quiet_day_still_gets_a_short_digest(slack: Harness) -> None:
    good = slack.register("chat", "x" * 60)
    slack.promote_now("chat", good)
    slack.promote_approved("risky", slack.register("risky", "r" * 60), "UBEN")
    slack.command("/rehearse", "chat", channel="CINC")  # needs an earlier good version
    slack.idle()
    slack.clock.advance(days=2)  # nothing happened in the last 24 h
    Jobs(slack).fire("digest:CREL", _today(slack, 9))
    text = _text(_posts(slack, "CREL")[-1])
    assert "Daily digest" in text and "risky" in text
    assert "overdue" in text  # chat was never rehearsed (no earlier version to roll back to)


def test_reminder_button_runs_a_rehearsal_that_never_touches_production(
        slack: Harness) -> None:
    good, _bad = slack.regressed()
    with slack.playbook.ctx.uow() as uow:
        production = uow.tags.get("chat", PRODUCTION)
        production_events = len(uow.events.history("chat", PRODUCTION))
    scheduler = Jobs(slack)
    at = _today(slack, 10)

    scheduler.fire("rehearsal-check", at)
    scheduler.fire("rehearsal-check", at)  # a second replica at the same time: no repeat
    (reminder,) = _posts(slack, "CINC")
    assert "never rehearsed" in str(reminder["text"])
    assert REHEARSE_ACTION in json.dumps(reminder["blocks"])

    slack.click(REHEARSE_ACTION, "chat", user="UONCALL", channel="CINC",
                channel_name="incidents")
    slack.idle()
    record, _confirm, verdict = _posts(slack, "CINC")[1:]
    assert "Rehearsal: rolled back chat" in _text(record)
    assert "within the 300 s budget" in str(verdict["text"])
    with slack.playbook.ctx.uow() as uow:
        assert uow.tags.get("chat", PRODUCTION) == production
        assert len(uow.events.history("chat", PRODUCTION)) == production_events
        staged = uow.tags.get("chat", REHEARSAL)
        assert staged is not None and staged.version_id == good.id

    slack.clock.advance(days=1)
    scheduler.fire("rehearsal-check", at + timedelta(days=1))
    assert len(_posts(slack, "CINC")) == 4  # rehearsed yesterday: not due

    deploy = Path(slack.playbook.settings.config_path).parent / "deploy.sh"
    deploy.write_text("helm upgrade chat ./chart\n")  # the deploy path changed
    slack.clock.advance(days=1)
    scheduler.fire("rehearsal-check", at + timedelta(days=2))
    assert "deploy path changed" in str(_posts(slack, "CINC")[-1]["text"])


def test_sweep_updates_expired_cards_and_warns_of_experiments_once(slack: Harness) -> None:
    risky = slack.register("risky", "r" * 50)
    slack.reply(slack.command("/promote", f"risky {risky.short}", channel="CREL",
                              channel_name="releases"))
    slack.idle()
    assert [c for c in slack.fake.called("chat.postMessage") if "Approve" in _text(c.params)]
    with slack.playbook.ctx.uow() as uow:
        (pending,) = uow.approvals.pending("risky")
    card = slack.rt.cards.where(pending.id)
    assert card is not None
    parent = slack.register("chat", "x" * 60)
    start_experiment(StartExperiment.parse(
        model="chat", name="warm", components={"prompt": "w" * 70}, owner="UANA",
        reason="try", parent=parent.short, scores={"score": 0.7}, actor="UANA"),
        slack.playbook.ctx)
    scheduler = Jobs(slack)

    slack.clock.advance(hours=25)  # past the 24 h approval TTL; the experiment ends in 23 h
    scheduler.fire("sweep", slack.clock.now())
    scheduler.fire("sweep", slack.clock.now() + timedelta(minutes=5))
    slack.idle()  # the card is the notifier's, from the RequestExpired event
    (updated,) = slack.fake.called("chat.update")
    assert (updated.params["channel"], updated.params["ts"]) == card
    assert "xpired" in _text(updated.params) and "Approve" not in _text(updated.params)
    warnings = [p for p in _posts(slack, "CREL") if "experiment/warm" in _text(p)]
    assert len(warnings) == 1 and "expires" in str(warnings[0]["text"])


def _with_weights(slack: Harness, tmp_path: Path, size: int) -> Version:
    """A version with a heavy artifact that never serves: GC's candidate once retention ends."""
    blob = tmp_path / "weights.bin"
    blob.write_bytes(b"w" * size)
    return register(Register.parse(model="chat", components={"prompt": "old" * 30},
                                   owner="UANA", reason="old", root=True,
                                   scores={"score": 0.9}, artifacts=(str(blob),),
                                   actor="UANA"), slack.playbook.ctx).version


def test_gc_cycle_posts_what_it_removed(slack: Harness, tmp_path: Path) -> None:
    old = _with_weights(slack, tmp_path, 4096)
    scheduler = Jobs(slack)
    scheduler.fire("gc", _today(slack, 3))
    assert not _posts(slack, "CREL")  # within retention: nothing removed, nothing posted

    slack.clock.advance(days=91)
    scheduler.fire("gc", _today(slack, 3))
    (post,) = _posts(slack, "CREL")  # release channel and digest channel are the same
    assert old.short in _text(post) and "4.0 KB freed" in str(post["text"])
    scheduler.fire("digest:CREL", _today(slack, 9))
    assert "1 versions' artifacts removed, 4.0 KB freed" in _text(_posts(slack, "CREL")[-1])


def test_after_downtime_one_digest_goes_out_on_start(slack: Harness) -> None:
    schedule = slack.playbook.config.schedule.model_copy(update={"catch_up_minutes": 120})
    slack.playbook.config = slack.playbook.config.model_copy(update={"schedule": schedule})
    nine = _today(slack, 9)
    slack.clock.set(nine + timedelta(minutes=90))  # down since 08:00

    assert "digest:CREL" in Jobs(slack, owner="replica-a").catch_up()
    # another replica starts
    assert Jobs(slack, owner="replica-b").catch_up() == []
    assert len([p for p in _posts(slack, "CREL") if "Daily digest" in str(p["text"])]) == 1

    slack.clock.advance(days=3, hours=2)  # three days down, past the window
    assert "digest:CREL" not in Jobs(slack).catch_up()
    assert len([p for p in _posts(slack, "CREL") if "Daily digest" in str(p["text"])]) == 1


def test_a_claim_left_by_a_dead_replica_is_taken_over(slack: Harness) -> None:
    claims = Claims(slack.playbook.ctx.uow)
    nine = _today(slack, 9)
    assert claims.claim("digest:CREL", nine, "dead-replica", slack.clock.now(),
                        timedelta(minutes=10))
    scheduler = Jobs(slack, owner="survivor")
    assert scheduler.fire("digest:CREL", nine) is None  # claimed by the other, not yet stale
    assert scheduler.reclaim() == []
    assert not _posts(slack, "CREL")

    slack.clock.advance(minutes=11)
    assert scheduler.reclaim() == ["digest:CREL"]
    assert len(_posts(slack, "CREL")) == 1
    claim = claims.get("digest:CREL", nine)
    assert claim is not None and claim.claimed_by == "survivor" and claim.attempts == 2
    assert claim.done_at is not None
    assert scheduler.reclaim() == []


def test_a_failed_post_is_retried_not_lost(slack: Harness) -> None:
    slack.fake.fail("chat.postMessage", "channel_not_found")
    scheduler = Jobs(slack)
    nine = _today(slack, 9)
    assert scheduler.fire("digest:CREL", nine) is not None  # the slot's work is done: it is due
    claim = scheduler.once.get("digest:CREL", nine)
    assert claim is not None and claim.done_at is not None
    with slack.playbook.ctx.uow() as uow:  # the post waits in the outbox, its error kept
        (waiting,) = uow.outbox.list()
    assert waiting.name == "DigestDue" and "channel_not_found" in str(waiting.last_error)
    slack.clock.advance(seconds=5)
    slack.deliver_due()
    assert len(slack.fake.called("chat.postMessage", channel="CREL")) == 2  # failed, then ok
    assert scheduler.reclaim() == []  # nothing left for the claims to retry
    slack.clock.advance(minutes=1)
    slack.deliver_due()
    assert len(slack.fake.called("chat.postMessage", channel="CREL")) == 2  # posted once


def test_registry_digest_posts_the_digest_in_the_channel(slack: Harness) -> None:
    good = slack.register("chat", "x" * 60)
    slack.promote_now("chat", good)
    sent = slack.command("/registry", "digest", channel="CREL", channel_name="releases")
    reply = slack.reply(sent)
    assert reply["response_type"] == "in_channel"
    assert "Daily digest" in json.dumps(reply) and good.short in json.dumps(reply)
    assert "*slow*" not in json.dumps(reply)


def test_a_gc_report_whose_post_failed_is_posted_on_retry(
        slack: Harness, tmp_path: Path) -> None:
    old = _with_weights(slack, tmp_path, 2048)
    slack.clock.advance(days=91)
    slack.fake.fail("chat.postMessage", "service_unavailable")
    scheduler = Jobs(slack)
    three = _today(slack, 3)
    assert scheduler.fire("gc", three) is not None  # collected; its report's post failed
    with slack.playbook.ctx.uow() as uow:
        assert uow.versions.get("chat", old.id).artifacts_collected_at is not None  # type: ignore[union-attr]

    slack.clock.advance(seconds=5)
    slack.deliver_due()
    (post,) = _posts(slack, "CREL")[1:]  # the failed attempt, then the report
    assert old.short in _text(post) and "2.0 KB freed" in str(post["text"])
    with slack.playbook.ctx.uow() as uow:
        assert len([r for r in uow.runs.list(play="gc") if r.actor == "scheduler"]) == 1


def test_a_gc_cycle_whose_replica_died_before_reporting_reports_its_run(
        slack: Harness, tmp_path: Path) -> None:
    """The claim is retried; the retry reports the run already made instead of collecting
    again (which would find nothing and lose the report)."""
    old = _with_weights(slack, tmp_path, 2048)
    slack.clock.advance(days=91)
    three = _today(slack, 3)
    scheduler = Jobs(slack, owner="dies")
    assert scheduler.once.claim("gc", three)
    collect_garbage(CollectGarbage(actor=tasks.ACTOR), slack.playbook.ctx)  # then it died
    slack.clock.advance(minutes=11)
    assert Jobs(slack, owner="survivor").reclaim() == ["gc"]
    (post,) = _posts(slack, "CREL")
    assert old.short in _text(post) and "2.0 KB freed" in str(post["text"])


def test_an_expired_card_whose_update_failed_is_updated_on_retry(slack: Harness) -> None:
    risky = slack.register("risky", "r" * 50)
    slack.reply(slack.command("/promote", f"risky {risky.short}", channel="CREL",
                              channel_name="releases"))
    slack.idle()
    with slack.playbook.ctx.uow() as uow:
        (pending,) = uow.approvals.pending("risky")
    slack.clock.advance(hours=25)
    slack.fake.fail("chat.update", "service_unavailable")
    scheduler = Jobs(slack)
    scheduler.fire("sweep", slack.clock.now())
    with slack.playbook.ctx.uow() as uow:
        assert uow.approvals.get(pending.id).status == "expired"  # type: ignore[union-attr]
    slack.idle()  # the notifier tried the card (RequestExpired) and Slack failed
    scheduler.fire("sweep", slack.clock.now() + timedelta(minutes=5))  # not pending: no retry
    slack.idle()
    assert len(slack.fake.called("chat.update")) == 1
    with slack.playbook.ctx.uow() as uow:  # the update waits in the outbox for its retry
        (waiting,) = uow.outbox.list()
    assert waiting.name == "RequestExpired" and "service_unavailable" in str(waiting.last_error)

    slack.clock.advance(seconds=5)
    slack.deliver_due()
    _failed, updated = slack.fake.called("chat.update")
    assert "xpired" in _text(updated.params) and "Approve" not in _text(updated.params)


def test_a_fire_that_never_claimed_its_slot_is_run_a_minute_later(slack: Harness) -> None:
    nine = _today(slack, 9)
    slack.clock.set(nine - timedelta(minutes=5))
    # up since 08:55; at 09:00 the database was away
    scheduler = Jobs(slack)
    slack.clock.advance(minutes=5, seconds=30)
    assert scheduler.retry_missed() == []  # under a minute late: the fire may still claim it
    slack.clock.advance(minutes=1)
    assert "digest:CREL" in scheduler.retry_missed()
    assert scheduler.retry_missed() == []
    assert len([p for p in _posts(slack, "CREL") if "Daily digest" in str(p["text"])]) == 1


def test_a_claim_nothing_can_retry_is_closed_not_retried_forever(slack: Harness) -> None:
    claims = Claims(slack.playbook.ctx.uow)
    nine = _today(slack, 9)
    claims.claim("digest:#gone", nine, "dead", slack.clock.now(), timedelta(minutes=10))
    slack.clock.advance(minutes=11)
    scheduler = Jobs(slack)
    assert scheduler.reclaim() == []
    claim = claims.get("digest:#gone", nine)
    assert claim is not None and claim.done_at is not None
    assert str(claim.outcome).startswith("abandoned")
    assert claims.stale(slack.clock.now(), timedelta(minutes=10)) == []
