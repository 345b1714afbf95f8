"""A version's lineage: itself and its ancestors, nearest first, in one read however deep,
bounded by the caller, each with how many ancestors it has and where its chain starts; the
same from the fakes and from SQL on SQLite and PostgreSQL."""

from __future__ import annotations

from integration.builders import version

from core.domain import Ancestor, Version
from core.ports import UnitOfWorkFactory


def chain(uow: UnitOfWorkFactory, depth: int, model: str = "chat") -> list[Version]:
    """`depth` versions, each the parent of the next; answered root first."""
    made: list[Version] = []
    with uow() as u:
        for n in range(depth):
            v = version(n, model, parent_id=made[-1].id if made else None)
            u.versions.add(v)
            made.append(v)
        u.commit()
    return made


def ids(found: list[Ancestor]) -> list[str]:
    return [a.id for a in found]


def test_the_lineage_is_the_version_then_each_parent_up_to_the_root(
        uow: UnitOfWorkFactory) -> None:
    made = chain(uow, 40)
    other = chain(uow, 3, model="other")  # another model's versions are not its ancestors
    with uow(read_only=True) as u:
        assert ids(u.versions.ancestry("chat", made[-1].id)) == [v.id for v in made[::-1]]
        assert ids(u.versions.ancestry("chat", made[0].id)) == [made[0].id]
        assert ids(u.versions.ancestry("chat", made[20].id)) == [v.id for v in made[20::-1]]
        assert ids(u.versions.ancestry("other", other[-1].id)) == [v.id for v in other[::-1]]


def test_each_ancestor_says_what_a_lineage_shows_and_where_it_sits(
        uow: UnitOfWorkFactory) -> None:
    made = chain(uow, 5)
    with uow(read_only=True) as u:
        found = u.versions.ancestry("chat", made[-1].id)
    assert [a.depth for a in found] == [4, 3, 2, 1, 0]
    assert {a.root_id for a in found} == {made[0].id}
    v = made[-1]
    assert found[0] == Ancestor(v.model, v.id, v.owner, v.reason, v.created_at, 4, made[0].id)
    assert found[0].short == v.short


def test_the_bound_gives_the_nearest_ancestors_and_still_the_whole_depth(
        uow: UnitOfWorkFactory) -> None:
    made = chain(uow, 12)
    with uow(read_only=True) as u:
        nearest = u.versions.ancestry("chat", made[-1].id, 5)
        assert ids(nearest) == [v.id for v in made[:-6:-1]]
        assert nearest[0].depth == 11 and nearest[0].root_id == made[0].id
        assert len(u.versions.ancestry("chat", made[-1].id, 12)) == 12
        assert len(u.versions.ancestry("chat", made[-1].id, 13)) == 12  # no more to find
        assert u.versions.ancestry("chat", made[-1].id, 0) == []


def test_a_parent_that_is_not_registered_starts_the_chain(uow: UnitOfWorkFactory) -> None:
    orphan = version(1, parent_id="1" * 64)
    child = version(2, parent_id=orphan.id)
    with uow() as u:
        u.versions.add(orphan)
        u.versions.add(child)
        u.commit()
    with uow(read_only=True) as u:
        found = u.versions.ancestry("chat", child.id)
    assert ids(found) == [child.id, orphan.id]
    assert [a.depth for a in found] == [1, 0] and found[0].root_id == orphan.id


def test_an_unknown_version_has_no_lineage(uow: UnitOfWorkFactory) -> None:
    chain(uow, 2)
    with uow(read_only=True) as u:
        assert u.versions.ancestry("chat", "f" * 64, 10) == []
        assert u.versions.ancestry("nope", "f" * 64) == []
