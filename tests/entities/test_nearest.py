"""World.nearest: the nearest-first pages of `look`, checked against sorting everything."""

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from entities import World

coord = st.floats(-120, 120, allow_nan=False).map(lambda v: round(v, 1))
point = st.tuples(coord, coord, coord)


def brute(world, center, radius, hidden=frozenset()):
    ranked = sorted(
        (e.distance2(center), e.id) for e in world.all()
        if e.distance2(center) <= radius * radius and e.id not in hidden
    )  # fmt: skip
    return [eid for _, eid in ranked]


def walk(world, center, radius, limit, hidden=frozenset()):
    seen, after, pages = [], None, 0
    while True:
        page, after, _ = world.nearest(
            center, radius, limit, after, (lambda e: e.id in hidden) if hidden else None
        )
        seen.extend(e.id for e in page)
        pages += 1
        if after is None:
            return seen, pages
        assert len(page) == limit


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    positions=st.lists(point, max_size=120),
    center=point,
    radius=st.floats(0, 200, allow_nan=False),
    limit=st.integers(1, 25),
    data=st.data(),
)
def test_pages_walk_exactly_the_sorted_area(make_entity, positions, center, radius, limit, data):
    world = World()
    for p in positions:
        world.add(make_entity(position=p))
    ids = [e.id for e in world.all()]
    hidden = frozenset(data.draw(st.lists(st.sampled_from(ids), max_size=5)) if ids else ())
    seen, pages = walk(world, center, radius, limit, hidden)
    expected = brute(world, center, radius, hidden)
    assert seen == expected
    assert pages == max(1, -(-len(expected) // limit))


def test_a_far_page_reads_about_what_a_near_one_does(make_entity):
    """200 entities per 16 m cell along a line: paging out to 500 m reads a shell of cells
    per page, never everything nearer than the page."""
    world = World()
    for x in range(0, 500, 2):
        for k in range(8):
            world.add(make_entity(position=(x + 0.1 * k, 0.5, 0.5)))
    after, costs = None, []
    while True:
        page, after, examined = world.nearest((0.0, 0.5, 0.5), 600, 50, after)
        costs.append(examined)
        if after is None:
            break
    assert len(costs) == 40
    assert max(costs) <= 3 * 64 + 50  # a page of 50 and at most a few 64-entity cells
    assert costs[-2] <= 2 * costs[1] + 64  # far pages cost what near ones do


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    positions=st.lists(point, min_size=1, max_size=60),
    moves=st.lists(st.tuples(st.integers(0, 59), point), max_size=20),
    removed=st.lists(st.integers(0, 59), max_size=20),
    center=point,
    radius=st.floats(0, 300, allow_nan=False),
    bulk=st.booleans(),
)
def test_area_queries_stay_exact_as_the_world_changes(
    make_entity, positions, moves, removed, center, radius, bulk
):
    """The grid clamps a query to the occupied extent of thin axes: whatever is added (one by
    one or loaded in bulk), moved and removed, an area query is still exact."""
    import attrs

    world = World()
    ents = [make_entity(position=p) for p in positions]
    if bulk:
        world.load(ents)
    else:
        for e in ents:
            world.add(e)
    for i, p in moves:
        if i < len(ents) and ents[i].id in world:
            world.replace(attrs.evolve(world.get(ents[i].id), position=p))
    for i in removed:
        if i < len(ents):
            world.remove(ents[i].id)
    got = sorted(e.id for e in world.in_area(center, radius))
    assert got == sorted(brute(world, center, radius))
    page, _, _ = world.nearest(center, radius, 1000)
    assert [e.id for e in page] == brute(world, center, radius)
