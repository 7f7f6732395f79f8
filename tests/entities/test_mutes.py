"""MuteSet: the grid-indexed answer is the plain one, whatever is added and removed."""

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from entities import MuteSet, MuteTarget

coord = st.floats(-300, 300, allow_nan=False).map(lambda v: round(v, 1))
point = st.tuples(coord, coord, coord)
radius = st.one_of(st.floats(0, 40, allow_nan=False), st.floats(40, 2000, allow_nan=False))


def plainly_hidden(targets, entity):
    for t in targets:
        if t.kind == "entity" and t.value == entity.id:
            return True
        if t.kind == "owner" and t.value == entity.owner:
            return True
        if t.kind == "invisible" and not entity.visible:
            return True
        if t.kind == "area":
            center, r = t.value
            if entity.distance2(center) <= r * r:
                return True
    return False


@settings(
    max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    areas=st.lists(st.tuples(point, radius), max_size=12),
    removed=st.lists(st.integers(0, 11), max_size=6),
    positions=st.lists(point, min_size=1, max_size=30),
    invisible=st.booleans(),
)
def test_areas_hide_exactly_what_lies_within(
    make_entity, areas, removed, positions, invisible
):
    mutes = MuteSet()
    targets = [MuteTarget.from_wire({"area": {"center": list(c), "radius": r}}) for c, r in areas]
    for t in targets:
        mutes.add(t)
    for i in removed:
        if i < len(targets):
            mutes.remove(targets[i])
    if invisible:
        mutes.add(MuteTarget.from_wire({"invisible": True}))
    left = list(mutes.targets.values())
    for p in positions:
        for visible in (True, False):
            entity = make_entity(position=p, visible=visible)
            assert mutes.hides_entity(entity) == plainly_hidden(left, entity)


def test_thousands_of_area_mutes_cost_a_few_lookups(make_entity):
    mutes = MuteSet()
    for i in range(5000):
        mutes.add(MuteTarget.from_wire({"area": {"center": [i * 10.0, 0, 0], "radius": 3}}))
    assert len(mutes) == 5000
    far = make_entity(position=(5.0, 500.0, 0))
    near = make_entity(position=(20.5, 0, 0))
    assert not mutes.hides_entity(far) and mutes.hides_entity(near)
    # Only the areas registered in the entity's own cell are ever looked at.
    assert sum(len(cells) for cells in mutes._areas.values()) <= 5000 * 8
