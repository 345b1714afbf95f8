"""Upgrading a registry that already holds history (0011_read_paths), on SQLite and
PostgreSQL: each version's depth and root are worked out from its parent ids (versions
registered after the upgrade get theirs from their parent), and the running totals /metrics
reads start from the history already stored."""

from __future__ import annotations

from alembic import command
from sqlalchemy import text

from core.domain import Ancestor
from storage.database import alembic_config, make_engine, migrate
from storage.uow import uow_factory

from .builders import T0, version

BEFORE = "0010_token_limits"


def test_depths_and_roots_of_stored_versions_are_filled_in(engine_url: str) -> None:
    engine = make_engine(engine_url)
    try:
        cfg = alembic_config()
        with engine.begin() as conn:
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, BEFORE)
        # Stored by an older Playbook: a chain of four (inserted child first, which the
        # upgrade must not mind), a version whose parent was never registered, and a cycle
        # only a hand-edited database could hold.
        rows = [("d", "c"), ("c", "b"), ("b", "a"), ("a", None), ("y", "x0"), ("p", "q"),
                ("q", "p")]
        with engine.begin() as conn:
            for vid, parent in rows:
                conn.execute(text(
                    "INSERT INTO versions (model, id, components, owner, parent_id, reason, "
                    "scores, eval_source, created_at, kind, artifacts, artifact_count) VALUES "
                    "('chat', :id, '{}', 'ana', :parent, 'r', '{}', '', :at, 'release', '[]', 0)"),
                    {"id": vid * 64 if len(vid) == 1 else vid, "at": T0,
                     "parent": (parent * 64 if len(parent) == 1 else parent) if parent else None})
        with engine.begin() as conn:  # two promotions and a rollback; a real and a drill incident
            for n, (src, dst, play) in enumerate([(None, "a", "promote"), ("a", "b", "promote"),
                                                  ("b", "a", "rollback")], start=1):
                conn.execute(text(
                    "INSERT INTO tag_events (model, tag, from_version, to_version, revision, "
                    "actor, approvers, play, reason, at) VALUES ('chat', 'production', :src, "
                    ":dst, :n, 'ana', '[]', :play, 'r', :at)"),
                    {"src": src * 64 if src else None, "dst": dst * 64, "n": n, "play": play,
                     "at": T0})
            for iid, seconds, drill in (("inc-1", 42.0, False), ("inc-2", 3.0, True)):
                conn.execute(text(
                    "INSERT INTO incidents (id, model, tag, bad_version, restored_version, "
                    "symptom, opened_by, opened_at, rolled_back_at, time_to_rollback_s, "
                    "confirm_scores, rehearsal) VALUES (:id, 'chat', 'production', :bad, "
                    ":good, 's', 'ana', :at, :at, :s, '{}', :drill)"),
                    {"id": iid, "bad": "b" * 64, "good": "a" * 64, "at": T0, "s": seconds,
                     "drill": drill})
        migrate(engine)
        with uow_factory(engine)(read_only=True) as u:
            assert u.stats.tag_moves() == [("chat", "production", "promote", 2),
                                           ("chat", "production", "rollback", 1)]
            (histogram,) = u.stats.rollback_seconds().values()
            assert histogram.count == 1 and histogram.total_s == 42.0
        with engine.connect() as conn:
            placed = {i[:1]: (d, r[:1]) for i, d, r in conn.execute(
                text("SELECT id, depth, root_id FROM versions"))}
        assert placed["a"] == (0, "a") and placed["b"] == (1, "a")
        assert placed["c"] == (2, "a") and placed["d"] == (3, "a")
        assert placed["y"] == (0, "y")  # its parent was never registered: it starts a chain
        assert {placed["p"][0], placed["q"][0]} == {0, 1}  # the cycle is cut somewhere

        uow = uow_factory(engine)
        e = version(9, parent_id="d" * 64)
        with uow() as u:
            u.versions.add(e)
            u.commit()
        with uow(read_only=True) as u:
            found = u.versions.ancestry("chat", e.id)
        assert [a.id[:1] for a in found] == [e.id[:1], "d", "c", "b", "a"]
        assert found[0] == Ancestor("chat", e.id, e.owner, e.reason, e.created_at, 4, "a" * 64)
        with uow(read_only=True) as u:  # the walk ends even on the cycle
            assert len(u.versions.ancestry("chat", "p" * 64)) in (1, 2)
    finally:
        engine.dispose()
