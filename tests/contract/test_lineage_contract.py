"""A version's lineage: itself and its ancestors, nearest first, in one read however deep,
bounded by the caller; the same from the fakes and from SQL on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable

from integration.builders import version

from core.domain import Version
from core.ports import UnitOfWork

Factory = Callable[[], UnitOfWork]


def chain(uow: Factory, depth: int, model: str = "chat") -> list[Version]:
    """`depth` versions, each the parent of the next; answered root first."""
    made: list[Version] = []
    with uow() as u:
        for n in range(depth):
            v = version(n, model, parent_id=made[-1].id if made else None)
            u.versions.add(v)
            made.append(v)
        u.commit()
    return made


def test_the_lineage_is_the_version_then_each_parent_up_to_the_root(uow: Factory) -> None:
    made = chain(uow, 40)
    other = chain(uow, 3, model="other")  # another model's versions are not its ancestors
    with uow() as u:
        assert u.versions.lineage("chat", made[-1].id, 1000) == made[::-1]
        assert u.versions.lineage("chat", made[0].id, 1000) == [made[0]]
        assert u.versions.lineage("chat", made[20].id, 1000) == made[20::-1]
        assert u.versions.lineage("other", other[-1].id, 1000) == other[::-1]


def test_the_bound_gives_the_nearest_ancestors_only(uow: Factory) -> None:
    made = chain(uow, 12)
    with uow() as u:
        assert u.versions.lineage("chat", made[-1].id, 5) == made[:-6:-1]
        assert u.versions.lineage("chat", made[-1].id, 12) == made[::-1]
        assert u.versions.lineage("chat", made[-1].id, 13) == made[::-1]  # no more to find
        assert u.versions.lineage("chat", made[-1].id, 0) == []


def test_an_unknown_version_has_no_lineage(uow: Factory) -> None:
    chain(uow, 2)
    with uow() as u:
        assert u.versions.lineage("chat", "f" * 64, 10) == []
        assert u.versions.lineage("nope", "f" * 64, 10) == []
