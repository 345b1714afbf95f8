"""Traffic served outside the registry (issue 14): requests attributed to a version no tag
pointed at when they were served are counted per model, version and day; crossing the model's
`outside_registry_alert` tells the incident channel once; the digest shows the counts."""

from __future__ import annotations

from datetime import timedelta

from fakes import T0, Fakes, make_ctx
from given import BASE

from core.digest import build_digest
from core.engine import PlayContext
from core.events import ServedOutsideRegistry
from core.plays.attribute import attribute

CONFIG = BASE.replace('[models.chat]\nowner = "alice"',
                      '[models.chat]\nowner = "alice"\noutside_registry_alert = 3')


def records(version: str, n: int, at_minutes: float, start: int = 0) -> list[dict[str, str]]:
    when = (T0 + timedelta(minutes=at_minutes)).isoformat()
    return [{"request_id": f"{version[:6]}-{at_minutes}-{start + i}", "model": "chat",
             "version": version, "served_at": when} for i in range(n)]


def world() -> tuple[PlayContext, Fakes, str, str]:
    """v1 is production from T0 + 10 min; v2 is registered and never promoted."""
    ctx, fakes = make_ctx(CONFIG)
    v1 = fakes.add_version("chat", "v1", {"accuracy": 0.8}).id
    v2 = fakes.add_version("chat", "v2", {"accuracy": 0.9}, parent=v1).id
    fakes.move("chat", "production", v1, at=T0 + timedelta(minutes=10))
    fakes.clock.set(T0 + timedelta(hours=2))
    return ctx, fakes, v1, v2


def outside(fakes: Fakes) -> list[tuple[str, str, int]]:
    with fakes.uow() as u:
        return [(v, str(d), n) for _m, v, d, n in u.attributions.outside(T0.date())]


def test_only_requests_no_tag_pointed_at_are_counted() -> None:
    ctx, fakes, v1, v2 = world()
    attribute(records(v1, 4, 30) + records(v2, 2, 30), ctx)
    assert outside(fakes) == [(v2, str(T0.date()), 2)]


def test_a_tag_move_is_given_a_minute_of_grace_either_side() -> None:
    ctx, fakes, v1, _ = world()
    attribute(records(v1, 1, 9.5), ctx)  # 30 s before production pointed at it: grace
    assert outside(fakes) == []
    attribute(records(v1, 2, 5), ctx)  # 5 minutes before: outside
    assert outside(fakes) == [(v1, str(T0.date()), 2)]


def test_a_version_keeps_counting_after_a_tag_moved_away_from_it() -> None:
    ctx, fakes, v1, v2 = world()
    fakes.move("chat", "production", v2, at=T0 + timedelta(minutes=60))
    attribute(records(v1, 1, 60.5) + records(v1, 3, 90) + records(v2, 3, 90), ctx)
    assert outside(fakes) == [(v1, str(T0.date()), 3)]  # 30 s after the move: grace


def test_a_retried_batch_is_not_counted_twice() -> None:
    ctx, fakes, _, v2 = world()
    batch = records(v2, 2, 30)
    attribute(batch, ctx)
    assert attribute(batch, ctx).duplicates == 2
    assert outside(fakes) == [(v2, str(T0.date()), 2)]


def test_crossing_the_threshold_tells_the_incident_channel_once() -> None:
    ctx, fakes, _, v2 = world()
    attribute(records(v2, 2, 30), ctx)
    assert "ServedOutsideRegistry" not in fakes.event_names("chat")
    attribute(records(v2, 2, 40), ctx)
    (told,) = [e for e in fakes.domain_events("chat") if isinstance(e, ServedOutsideRegistry)]
    assert (told.version_id, told.requests, told.threshold, told.day) == (v2, 4, 3, T0.date())
    attribute(records(v2, 5, 50), ctx)  # over it already: not told again that day
    assert fakes.event_names("chat").count("ServedOutsideRegistry") == 1


def test_the_digest_shows_what_served_outside_the_registry() -> None:
    ctx, _fakes, _, v2 = world()
    attribute(records(v2, 2, 30), ctx)
    digest = build_digest(ctx, ["chat"], lambda _m: None)
    (chat,) = digest.models
    assert chat.outside == [(f"chat@{v2[:12]}", 2)] and not chat.quiet
