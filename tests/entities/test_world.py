import attrs
import pytest

from entities import MuteSet, MuteTarget, RateBuckets, World
from entities.errors import BadRequest
from entities.expiry import ExpiryQueue
from entities.grid import SpatialGrid

from .conftest import OTHER, OWNER


def test_indexes_by_owner_creator_invisible(make_entity):
    w = World()
    a = make_entity(owner=OWNER)
    b = make_entity(owner=OTHER, creator=OWNER, visible=False)
    w.add(a)
    w.add(b)
    assert w.owned_by(OWNER) == {a.id}
    assert w.created_by(OWNER) == {a.id, b.id}
    assert w.invisible_ids() == {b.id}
    w.remove(b.id)
    assert w.created_by(OWNER) == {a.id} and not w.invisible_ids()
    assert w.count_owned(OTHER) == 0


def test_replace_keeps_indexes_right(make_entity):
    w = World()
    a = make_entity(position=(0, 0, 0))
    w.add(a)
    moved = attrs.evolve(a, position=(100.0, 0.0, 0.0), visible=False, expires_at=50.0)
    w.replace(moved)
    assert [e.id for e in w.in_area((100, 0, 0), 1)] == [a.id]
    assert w.in_area((0, 0, 0), 1) == []
    assert w.invisible_ids() == {a.id}
    assert w.expiry.pop_due(60.0) == [a.id]
    with pytest.raises(ValueError):
        w.replace(attrs.evolve(a, owner=OTHER))


def test_area_query_exact_distance(make_entity):
    w = World(cell_size=4)
    inside = make_entity(position=(3, 4, 0))  # distance 5
    outside = make_entity(position=(3, 4.1, 0))
    w.add(inside)
    w.add(outside)
    assert [e.id for e in w.in_area((0, 0, 0), 5)] == [inside.id]


def test_grid_huge_radius_walks_occupied_cells():
    g = SpatialGrid(1.0)
    g.insert("x", (5.0, 5.0, 5.0))
    g.insert("y", (-1e6, 0.0, 0.0))
    assert set(g.candidates((0, 0, 0), 1e7)) == {"x", "y"}
    assert list(g.candidates((0, 0, 0), 1)) == []


def test_lineage_root_follows_parents(make_entity):
    w = World()
    root = make_entity(script="s")
    w.add(root)
    child = make_entity(parent=root.id, script="s")
    w.add(child)
    grandchild = make_entity(parent=child.id)
    w.add(grandchild)
    assert w.lineage_root(grandchild.id) == root.id
    w.remove(child.id)  # the family stays one family after a middle member goes
    assert w.lineage_root(grandchild.id) == root.id


def test_expiry_queue_order_and_cancel():
    q = ExpiryQueue()
    q.schedule("a", 10)
    q.schedule("b", 5)
    q.schedule("c", 7)
    q.cancel("c")
    q.schedule("a", 3)  # rescheduled earlier: the stale entry at 10 must not fire again
    assert q.next_deadline() == 3
    assert q.pop_due(6) == ["a", "b"]
    assert q.pop_due(100) == []
    assert len(q) == 0


def test_expiry_heap_compacts():
    q = ExpiryQueue()
    for i in range(1000):
        q.schedule("x", float(i))
    assert len(q._heap) <= 2 * len(q) + 64 + 1


def test_world_load_schedules_expiry(make_entity, temp_rule):
    w = World()
    w.load([make_entity(rule=temp_rule, now=0), make_entity()])
    assert len(w) == 2 and len(w.expiry) == 1 and w.expiry.next_deadline() == 60


def test_rate_buckets_refused_spends_nothing():
    b = RateBuckets()
    assert b.take("k", 2, now=0) and b.take("k", 2, now=0)
    assert not b.take("k", 2, now=0)
    assert not b.take("k", 2, now=0.1)  # 0.2 tokens back: not enough
    assert b.take("k", 2, now=0.5)  # one second's worth at most, refilled at 2/s
    assert not b.allows("z", 0, now=0)


def test_mutes(make_entity):
    m = MuteSet()
    a = make_entity(owner=OWNER, position=(0, 0, 0))
    hidden = make_entity(owner=OTHER, visible=False, position=(50, 0, 0))
    far = make_entity(owner=OTHER, position=(50, 0, 0))
    assert not m.hides_entity(a)
    m.add(MuteTarget.from_wire({"invisible": True}))
    assert m.hides_entity(hidden) and not m.hides_entity(far)
    m.add(MuteTarget.from_wire({"area": {"center": [0, 0, 0], "radius": 1}}))
    assert m.hides_entity(a)
    m.add(MuteTarget.from_wire({"owner": OTHER}))
    assert m.hides_entity(far) and m.hides_avatar(OTHER)
    assert not m.add(MuteTarget.from_wire({"owner": OTHER}))
    assert m.remove(MuteTarget.from_wire({"owner": OTHER}))
    assert not m.hides_entity(far)


@pytest.mark.parametrize(
    "target",
    [
        {"owner": "nope"},
        {"area": {"center": [0, 0], "radius": 1}},
        {"invisible": False},
        {"entity": "a", "owner": OWNER},
        {"colour": 1},
        [],
    ],
)
def test_bad_mute_targets(target):
    with pytest.raises(BadRequest):
        MuteTarget.from_wire(target)


def test_mute_target_round_trip():
    t = MuteTarget.from_wire({"area": {"center": [1, 2, 3], "radius": 4}})
    assert MuteTarget.from_wire(t.to_wire()) == t


def test_entity_row_round_trip(make_entity):
    e = attrs.evolve(make_entity(script="s"), props={"k": [1, "v"]})
    from entities import Entity

    assert Entity.from_row(e.to_row()) == e


def test_remove_owned_drops_every_index(make_entity, temp_rule):
    w = World()
    mine = [make_entity(owner=OWNER, visible=False, rule=temp_rule), make_entity(owner=OWNER)]
    theirs = make_entity(owner=OTHER, creator=OWNER)
    for e in [*mine, theirs]:
        w.add(e)
    assert sorted(w.remove_owned(OWNER)) == sorted(e.id for e in mine)
    assert len(w) == 1 and w.count_owned(OWNER) == 0 and not w.invisible_ids()
    assert w.created_by(OWNER) == {theirs.id}
    assert [e.id for e in w.in_area((0, 0, 0), 1)] == [theirs.id]
    assert w.expiry.pop_due(1e9) == []
    assert w.remove_owned(OWNER) == []


def test_rate_buckets_forget_only_idle_keys():
    b = RateBuckets()
    b.take("old", 5, now=0)
    b.take("recent", 5, now=100)
    assert b.forget_idle(now=120, idle=60) == 1
    assert not b.allows("gone", 0, now=120)
    # The forgotten key starts full again; the recent one still remembers its spend.
    assert all(b.take("old", 5, now=120) for _ in range(5))
    assert sum(b.take("recent", 5, now=100) for _ in range(5)) == 4


def test_remove_owned_in_bulk_leaves_what_removing_one_by_one_leaves():
    from .test_columns import state_of, varied_world

    for owner in ["a" * 43, "b" * 43, "f" * 43]:
        bulk, single = varied_world(900, seed=11), varied_world(900, seed=11)
        ids = set(single.owned_by(owner))
        assert ids and any(single.get(i).creator != owner for i in ids)
        for eid in list(ids):
            single.remove(eid)
        assert set(bulk.remove_owned(owner)) == ids
        assert state_of(bulk) == state_of(single)


def test_a_plan_made_stale_by_a_later_change_is_not_followed_blindly():
    """A removal planned while its commit runs, then overtaken by another committed change
    to the owner's entities: what is removed is what the world holds, not what was planned."""
    from .test_columns import state_of, varied_world

    owner = "c" * 43

    def edit(w):
        eid = sorted(w.owned_by(owner))[0]
        w.replace(attrs.evolve(w.get(eid), position=(1900.0, 1900.0, 50.0)))

    def drop(w):
        w.remove(sorted(w.owned_by(owner))[1])

    def swap(w):  # one gone and one new: the same count, not the same entities
        drop(w)
        w.add(attrs.evolve(w.get(sorted(w.owned_by(owner))[0]), id="f" * 16))

    for change in (edit, drop, swap):
        planned, single = varied_world(400, seed=5), varied_world(400, seed=5)
        plan = planned.plan_removal_of(owner)
        change(planned)
        change(single)
        expected = set(single.owned_by(owner))
        for eid in list(expected):
            single.remove(eid)
        gone = planned.remove_planned(plan)
        assert gone is not plan.ids and set(gone) == expected
        assert state_of(planned) == state_of(single)
    fresh = varied_world(400, seed=5)
    plan = fresh.plan_removal_of(owner)
    assert fresh.remove_planned(plan) is plan.ids  # nothing changed: the plan is followed


def test_crossing_is_what_the_two_area_queries_differ_by():
    """A moving range's gains and losses from one pass equal the differences of the area
    queries about the old and the new centre, for steps short and long, in any direction."""
    import random

    from .test_columns import varied_world

    world = varied_world(1500, seed=21)
    rng = random.Random(8)
    for _ in range(200):
        old = (rng.uniform(-500, 500), rng.uniform(-500, 500), rng.uniform(0, 40))
        step = rng.choice([0.5, 2.0, 7.0, 60.0, 400.0])
        new = tuple(c + rng.uniform(-step, step) for c in old)
        radius = rng.choice([5.0, 30.0, 100.0, 256.0])
        before = {e.id for e in world.in_area(old, radius)}
        now = {e.id for e in world.in_area(new, radius)}
        entered, left = world.crossing(old, new, radius)
        assert {e.id for e in entered} == now - before
        assert {e.id for e in left} == before - now
        assert len(entered) == len(now - before) and len(left) == len(before - now)
