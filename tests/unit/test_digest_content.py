"""The daily digest's content, built from a history made through the plays, then rendered."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta

import pytest
from fake_store import T0
from fakes import FakeClock, Fakes, make_ctx
from given import approved, chain, promoted, registered
from rehearsal_given import passing, slow_rollback

from bot.cli.schedule import plain
from bot.shared.slack_rules import block_text
from bot.slack.blocks.digest import PART_BLOCKS, PART_TEXT, digest_messages
from core.commands import CollectGarbage, Rehearse, Rollback, StartExperiment
from core.digest import Coverage, Digest, build_digest
from core.domain import PRODUCTION, REHEARSAL, Version
from core.engine import PlayContext
from core.errors import ConfigError
from core.plays.attribute import attribute
from core.plays.experiment import start_experiment
from core.plays.gc import collect_garbage
from core.plays.rehearse import rehearse
from core.plays.rollback import rollback

CONFIG = """
[defaults]
metric = "accuracy"
evaluator = { command = "fake-eval" }

[models.chat]
owner = "alice"
min_score = 0.5

[models.ranker]
retention_days = 5

[models.triage]
stakes = "high"
approvers = ["bob", "carol"]
"""
NOW = T0 + timedelta(days=20)
FP = "fp-1"


def fingerprint(model: str) -> str | None:
    return FP


def served(ctx: PlayContext, model: str, version: Version, when: list[datetime],
           prefix: str) -> None:
    attribute([{"request_id": f"{prefix}-{i}", "model": model, "version": version.id,
                "served_at": t.isoformat()} for i, t in enumerate(when)], ctx)


def spread(start: datetime, end: datetime, n: int) -> list[datetime]:
    step = (end - start) / n
    return [start + step * i for i in range(n)]


def experiment(ctx: PlayContext, parent: Version, name: str) -> Version:
    return start_experiment(StartExperiment.parse(
        model="chat", name=name, parent=parent.short, components={"prompt": f"try {name}"},
        owner="erin", reason=name, actor="erin", scores={"accuracy": 0.7}), ctx).version


@dataclass
class Scene:
    ctx: PlayContext
    fakes: Fakes
    v: dict[str, Version]
    ids: dict[str, str]


@pytest.fixture
def scene() -> Scene:
    ctx, fakes = make_ctx(CONFIG, clock=FakeClock(T0), evaluator=passing())
    clock = fakes.clock
    v: dict[str, Version] = {}
    ids: dict[str, str] = {}
    # chat: long in production, an old real incident, a recent promotion, a recent rollback
    v["c1"], v["c2"] = chain(ctx, "chat", 0.6, 0.7)
    v["junk"] = fakes.add_version("ranker", "junk", {"accuracy": 0.1},
                                  artifacts={"w.bin": b"x" * 5000}, created_at=T0)
    clock.set(NOW - timedelta(days=15))
    v["gone"] = experiment(ctx, v["c2"], "expired-already")  # expires NOW - 1 day
    clock.set(NOW - timedelta(days=12))
    v["soon"] = experiment(ctx, v["c2"], "ends-soon")  # expires NOW + 2 days
    clock.set(NOW - timedelta(days=11))
    v["edge"] = experiment(ctx, v["c2"], "ends-at-the-edge")  # NOW + 3 days exactly
    clock.set(NOW - timedelta(days=5))
    v["later"] = experiment(ctx, v["c2"], "ends-later")  # expires NOW + 9 days
    clock.set(NOW - timedelta(days=3))
    v["c3"] = registered(ctx, "chat", "chat v3", 0.8, parent=v["c2"])
    promoted(ctx, v["c3"])
    ids["old_incident"] = rollback(Rollback.parse(model="chat", actor="oncall",
                                                  symptom="old trouble"), ctx).incident.id
    clock.set(NOW - timedelta(days=2))
    gc = collect_garbage(CollectGarbage.parse(actor="gc-bot"), ctx)
    assert [x.id for x in gc.collected] == [v["junk"].id] and gc.bytes_freed == 5000
    clock.set(NOW - timedelta(days=1))
    collect_garbage(CollectGarbage.parse(actor="gc-bot", dry_run=True), ctx)
    clock.set(NOW - timedelta(hours=30))
    v["c4"] = registered(ctx, "chat", "chat v4", 0.85, parent=v["c2"])
    ids["move_outside"] = promoted(ctx, v["c4"]).run_id
    clock.set(NOW - timedelta(hours=12))
    with pytest.raises(ConfigError):
        collect_garbage(CollectGarbage.parse(actor="gc-bot", model="ghost"), ctx)
    # triage: approved into production 6 h ago; another request pending
    clock.set(NOW - timedelta(hours=6))
    v["t1"] = registered(ctx, "triage", "triage v1", 0.7)
    request = promoted(ctx, v["t1"]).request
    assert request is not None
    approved(ctx, request.id, "bob")
    assert fakes.tag("triage") == v["t1"].id
    clock.set(NOW - timedelta(hours=4))
    v["t2"] = registered(ctx, "triage", "triage v2", 0.75, parent=v["t1"])
    pending = promoted(ctx, v["t2"]).request
    assert pending is not None
    ids["pending"] = pending.id
    clock.set(NOW - timedelta(hours=2))
    v["c5"] = registered(ctx, "chat", "chat v5", 0.9, parent=v["c4"])
    promoted(ctx, v["c5"])
    clock.set(NOW - timedelta(hours=1))
    ids["incident"] = rollback(Rollback.parse(model="chat", actor="oncall",
                                              symptom="answers in French"), ctx).incident.id
    clock.set(NOW - timedelta(minutes=30))
    ids["rehearsal"] = rehearse(Rehearse.parse(model="chat", actor="oncall",
                                               deploy_fingerprint=FP), ctx,
                                slow_rollback(ctx, fakes)).incident.id
    # attributions: chat 10 a day for the week before, 7 in the last 24 h (70%: falling);
    # triage 4 a day and 4 in the last day (100%); ranker none at all
    served(ctx, "chat", v["c2"], spread(NOW - timedelta(days=8), NOW - timedelta(days=1), 70),
           "chat-old")
    served(ctx, "chat", v["c4"], spread(NOW - timedelta(days=1), NOW, 7), "chat-new")
    served(ctx, "chat", v["c4"], [NOW, NOW - timedelta(days=9)], "chat-outside")
    served(ctx, "triage", v["t1"], spread(NOW - timedelta(days=8), NOW - timedelta(days=1), 28),
           "triage-old")
    served(ctx, "triage", v["t1"], spread(NOW - timedelta(days=1), NOW, 4), "triage-new")
    clock.set(NOW)
    return Scene(ctx, fakes, v, ids)


def digest_of(scene: Scene, *models: str) -> Digest:
    return build_digest(scene.ctx, list(models or ("chat", "ranker", "triage")), fingerprint)


def test_production_and_since(scene: Scene) -> None:
    d = digest_of(scene)
    chat, ranker, triage = d.models

    assert d.at == NOW
    assert [m.model for m in d.models] == ["chat", "ranker", "triage"]
    assert (chat.production, chat.production_since) == (scene.v["c4"], NOW - timedelta(hours=1))
    assert (triage.production, triage.production_since) == (scene.v["t1"],
                                                            NOW - timedelta(hours=6))
    assert (ranker.production, ranker.production_since) == (None, None)
    assert chat.budget_s == 300


def test_moves_only_within_the_last_24_hours(scene: Scene) -> None:
    chat, ranker, triage = digest_of(scene).models
    v = scene.v

    assert [(e.play, e.from_version, e.to_version, e.at) for e in chat.moves] == [
        ("promote", v["c4"].id, v["c5"].id, NOW - timedelta(hours=2)),
        ("rollback", v["c5"].id, v["c4"].id, NOW - timedelta(hours=1))]
    assert all(e.tag == PRODUCTION for e in chat.moves)  # not the rehearsal tag's moves
    assert [(e.play, e.to_version, e.approvers) for e in triage.moves] == [
        ("promote", v["t1"].id, ("bob",))]
    assert ranker.moves == []
    # the promotion 30 h ago and the rollback 3 days ago are history, not news
    older = [e.at for e in scene.fakes.events if e.model == "chat" and e.tag == PRODUCTION
             and e not in chat.moves]
    assert older and max(older) == NOW - timedelta(hours=30)


def test_real_incidents_and_rehearsals_are_apart(scene: Scene) -> None:
    chat, ranker, triage = digest_of(scene).models

    assert [i.id for i in chat.incidents] == [scene.ids["incident"]]  # not the 3-day-old one
    assert chat.incidents[0].rehearsal is False
    assert chat.incidents[0].symptom == "answers in French"
    assert [i.id for i in chat.rehearsals] == [scene.ids["rehearsal"]]
    r = chat.rehearsals[0]
    assert (r.rehearsal, r.tag, r.deploy_fingerprint) == (True, REHEARSAL, FP)
    assert r.time_to_rollback_s > chat.budget_s
    assert ranker.incidents == ranker.rehearsals == triage.incidents == triage.rehearsals == []


def test_pending_approvals_are_listed(scene: Scene) -> None:
    chat, ranker, triage = digest_of(scene).models

    assert [(r.id, r.version_id) for r in triage.pending] == [
        (scene.ids["pending"], scene.v["t2"].id)]
    assert chat.pending == ranker.pending == []


def test_experiments_expiring_within_three_days(scene: Scene) -> None:
    chat, ranker, triage = digest_of(scene).models
    v = scene.v

    assert [(tag, ver.id) for tag, ver in chat.expiring] == [
        ("experiment/ends-soon", v["soon"].id), ("experiment/ends-at-the-edge", v["edge"].id)]
    assert v["soon"].expires_at == NOW + timedelta(days=2)
    assert v["edge"].expires_at == NOW + timedelta(days=3)
    assert v["later"].expires_at == NOW + timedelta(days=9)  # later: not yet
    assert v["gone"].expires_at == NOW - timedelta(days=1)  # already expired: not listed
    assert ranker.expiring == triage.expiring == []


def test_rehearsal_status_per_model(scene: Scene) -> None:
    chat, ranker, triage = digest_of(scene).models

    assert chat.rehearsal.last is not None
    assert chat.rehearsal.last.id == scene.ids["rehearsal"]
    assert (chat.rehearsal.due, chat.rehearsal.over_budget) == (False, True)
    assert (triage.rehearsal.due, triage.rehearsal.why) == (True, "never rehearsed")
    assert ranker.rehearsal.due is False  # nothing in production to rehearse


def test_a_changed_deploy_path_shows_as_due(scene: Scene) -> None:
    d = build_digest(scene.ctx, ["chat"], lambda m: "fp-2")
    assert d.models[0].rehearsal.due
    assert d.models[0].rehearsal.why == "its deploy path changed since the last rehearsal"


def test_attribution_coverage_against_the_week_before(scene: Scene) -> None:
    chat, ranker, triage = digest_of(scene).models

    assert chat.coverage == Coverage(attributed=7, baseline=10.0)
    assert chat.coverage.ratio == pytest.approx(0.7) and chat.coverage.falling
    assert triage.coverage == Coverage(attributed=4, baseline=4.0)
    assert triage.coverage.ratio == 1.0 and not triage.coverage.falling
    assert ranker.coverage == Coverage(attributed=0, baseline=None)
    assert ranker.coverage.ratio is None and not ranker.coverage.falling


@pytest.mark.parametrize(("recent", "falling"), [(39, True), (40, False), (41, False)])
def test_coverage_is_falling_under_eighty_percent(recent: int, falling: bool) -> None:
    ctx, fakes = make_ctx(CONFIG, clock=FakeClock(NOW - timedelta(days=9)), evaluator=passing())
    (c1,) = chain(ctx, "chat", 0.6)
    served(ctx, "chat", c1, spread(NOW - timedelta(days=8), NOW - timedelta(days=1), 350),
           "old")
    served(ctx, "chat", c1, spread(NOW - timedelta(days=1), NOW, recent), "new")
    fakes.clock.set(NOW)

    c = build_digest(ctx, ["chat"], fingerprint).models[0].coverage

    assert (c.attributed, c.baseline, c.falling) == (recent, 50.0, falling)


def test_no_attributions_in_the_last_day_after_a_busy_week_is_falling() -> None:
    ctx, fakes = make_ctx(CONFIG, clock=FakeClock(NOW - timedelta(days=9)), evaluator=passing())
    (c1,) = chain(ctx, "chat", 0.6)
    served(ctx, "chat", c1, [NOW - timedelta(days=2)], "old")
    fakes.clock.set(NOW)

    c = build_digest(ctx, ["chat"], fingerprint).models[0].coverage

    assert (c.attributed, c.baseline, c.ratio, c.falling) == (0, 1 / 7, 0.0, True)


def test_last_gc_is_the_latest_successful_real_run(scene: Scene) -> None:
    d = digest_of(scene)
    gc_runs = [(r.started_at, r.status.value, (r.result or {}).get("dry_run"))
               for r in scene.fakes.runs if r.play == "gc"]
    assert gc_runs == [(NOW - timedelta(days=2), "succeeded", False),
                       (NOW - timedelta(days=1), "succeeded", True),
                       (NOW - timedelta(hours=12), "failed", None)]

    assert d.last_gc is not None
    assert d.last_gc["at"] == NOW - timedelta(days=2)
    assert (d.last_gc["dry_run"], d.last_gc["bytes_freed"]) == (False, 5000)
    assert d.last_gc["collected"] == [scene.v["junk"].short]


def test_a_busy_day_is_not_quiet(scene: Scene) -> None:
    d = digest_of(scene)
    chat, ranker, triage = d.models

    assert not d.quiet
    assert (chat.quiet, ranker.quiet, triage.quiet) == (False, True, False)


def test_building_the_digest_changes_nothing(scene: Scene) -> None:
    before = scene.fakes.snapshot()
    runs = len(scene.fakes.runs)
    digest_of(scene)
    assert scene.fakes.snapshot() == before and len(scene.fakes.runs) == runs


def test_the_rendered_digest_says_it(scene: Scene) -> None:
    d = digest_of(scene)

    [msg] = digest_messages(d, "#ml-releases")
    text = plain(msg)

    assert msg["text"] == (f"Daily digest for #ml-releases: chat: production "
                           f"{scene.v['c4'].short}; ranker: production none; triage: "
                           f"production {scene.v['t1'].short}")
    assert f"Daily digest · {NOW:%Y-%m-%d}" in text
    assert "A quiet day" not in text
    for model in ("*chat*", "*ranker*", "*triage*"):
        assert model in text
    assert f"production `{scene.v['c4'].short}` for 1 h" in text
    assert "production none yet" in text
    assert f"incident `{scene.ids['incident']}`" in text and "answers in French" in text
    assert scene.ids["old_incident"] not in text
    assert f"rehearsal `{scene.ids['rehearsal']}`" in text and "over budget" in text
    assert "over the 300 s budget" in text
    assert f"approval `{scene.ids['pending']}` pending" in text and "(0/1)" in text
    assert "`experiment/ends-soon`" in text and "`experiment/ends-at-the-edge`" in text
    assert "ends-later" not in text and "expired-already" not in text
    assert "*overdue*: never rehearsed" in text  # triage
    assert "*falling*" in text and "70% of the 7-day daily mean (10)" in text
    assert "no baseline yet" in text  # ranker
    assert "1 versions' artifacts removed, 4.9 KB freed" in text


def quiet_scene() -> tuple[PlayContext, Fakes]:
    ctx, fakes = make_ctx(CONFIG, clock=FakeClock(NOW - timedelta(days=5)), evaluator=passing())
    c1, _c2 = chain(ctx, "chat", 0.6, 0.7)
    fakes.clock.set(NOW - timedelta(days=4))
    rehearse(Rehearse.parse(model="chat", actor="oncall", deploy_fingerprint=FP), ctx)
    served(ctx, "chat", c1, spread(NOW - timedelta(days=8), NOW, 80), "steady")
    fakes.clock.set(NOW)
    return ctx, fakes


def test_a_quiet_day_still_gets_a_short_digest() -> None:
    ctx, _fakes = quiet_scene()

    d = build_digest(ctx, ["chat", "ranker"], fingerprint)

    chat, ranker = d.models
    assert d.quiet and chat.quiet and ranker.quiet
    assert chat.production is not None and not chat.rehearsal.due
    assert (chat.moves, chat.incidents, chat.rehearsals, chat.pending, chat.expiring) == (
        [], [], [], [], [])
    assert d.last_gc is None
    [msg] = digest_messages(d, "#ml")
    text = plain(msg)
    assert "A quiet day: no moves, incidents, pending approvals or overdue rehearsals." in text
    assert "*chat*" in text and "*ranker*" in text
    assert "No GC cycle has run yet." in text
    assert "overdue" not in text.replace("or overdue rehearsals", "")
    assert "falling" not in text and "over the" not in text


def test_a_day_is_not_quiet_when_a_rehearsal_is_due() -> None:
    ctx, _fakes = quiet_scene()

    d = build_digest(ctx, ["chat"], lambda m: "another-deploy-path")

    assert not d.quiet and d.models[0].rehearsal.due
    [msg] = digest_messages(d, "#ml")
    text = plain(msg)
    assert "A quiet day" not in text
    assert "*overdue*: its deploy path changed since the last rehearsal" in text


def test_a_digest_of_many_models_comes_in_parts_within_slacks_limits(scene: Scene) -> None:
    d = digest_of(scene)
    chat = d.models[0]
    d.models = [replace(chat, model=f"m{i:02d}") for i in range(60)]

    parts = digest_messages(d, "#ml")

    # Slack refuses more than 50 blocks, or about 12,000 characters of block text in all
    # (msg_blocks_too_long), and notifications cut `text` at 4,000: every part stays inside.
    assert len(parts) > 1
    for part in parts:
        assert len(part["blocks"]) <= PART_BLOCKS and block_text(part["blocks"]) <= PART_TEXT
        assert len(part["text"]) < 4000
    shown = " ".join(str(p["blocks"]) for p in parts)
    assert all(shown.count(f"*m{i:02d}*") == 1 for i in range(60))  # every model, once
    assert f"60 models in {len(parts)} parts" in str(parts[0]["blocks"])
    assert f"part 2 of {len(parts)}" in str(parts[1]["blocks"])
    [few] = digest_messages(replace(d, models=d.models[:3]), "#ml")
    assert [b["type"] for b in few["blocks"]].count("divider") == 3
