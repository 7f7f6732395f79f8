import attrs
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from entities import Actor, LifetimeRule, Override
from entities.errors import BadRequest, NotAllowed, NotOwner, OwnerImmutable, ScriptNotAllowed
from entities.rules import (
    RezRequest,
    apply_edit,
    check_owner_or_edit_any,
    lineage,
    may_edit,
    override_from_wire,
)

from .conftest import OTHER, OWNER


def allow_scripts(source):
    return None


def deny_scripts(source):
    raise ScriptNotAllowed("no")


def test_visitor_rez_is_temporary_with_default(make_entity, temp_rule):
    e = make_entity(rule=temp_rule, now=100.0)
    assert e.temporary and e.expires_at == 160.0


def test_visitor_rez_lifetime_is_clamped_to_cap(make_entity, temp_rule):
    e = make_entity(rule=temp_rule, lifetime=10_000, now=100.0)
    assert e.expires_at == 700.0


def test_permanent_role_rez_is_permanent_unless_lifetime(make_entity, perm_rule):
    assert make_entity(rule=perm_rule).expires_at is None
    assert make_entity(rule=perm_rule, lifetime=5000, now=0.0).expires_at == 5000.0  # not capped


def test_non_owner_edit_refused_before_anything_else(make_entity, stranger, perm_rule):
    e = make_entity()
    # Even an immutable-field edit from a stranger is not_owner, not owner_immutable.
    with pytest.raises(NotOwner):
        apply_edit(e, stranger, {"owner": OTHER}, perm_rule, allow_scripts)


@pytest.mark.parametrize("field", ["owner", "creator", "id", "parent", "created_at"])
def test_immutable_fields(make_entity, owner, perm_rule, field):
    with pytest.raises(OwnerImmutable):
        apply_edit(make_entity(), owner, {field: "x"}, perm_rule, allow_scripts)


def test_unknown_field_is_bad_request(make_entity, owner, perm_rule):
    with pytest.raises(BadRequest):
        apply_edit(make_entity(), owner, {"colour": "red"}, perm_rule, allow_scripts)


def test_owner_edit_changes_only_what_was_asked(make_entity, owner, perm_rule):
    e = make_entity()
    new = apply_edit(e, owner, {"position": [1, 2, 3], "visible": False}, perm_rule, allow_scripts)
    assert new.position == (1.0, 2.0, 3.0) and not new.visible
    assert (new.owner, new.creator, new.id, new.created_at) == (
        e.owner,
        e.creator,
        e.id,
        e.created_at,
    )


def test_temporary_role_cannot_make_permanent_or_extend(make_entity, owner, temp_rule):
    e = make_entity(rule=temp_rule, now=100.0)
    with pytest.raises(NotAllowed):
        apply_edit(e, owner, {"lifetime": None}, temp_rule, allow_scripts)
    longer = apply_edit(e, owner, {"lifetime": 99_999}, temp_rule, allow_scripts)
    assert longer.expires_at == 100.0 + 600


def test_edit_script_checked(make_entity, owner, perm_rule):
    with pytest.raises(ScriptNotAllowed):
        apply_edit(make_entity(), owner, {"script": "https://x/y.js"}, perm_rule, deny_scripts)


def test_override_anyone_and_group(make_entity):
    e = make_entity()
    stranger = Actor(OTHER, frozenset({"builders"}))
    assert not may_edit(e, stranger)
    assert may_edit(attrs.evolve(e, override=Override(anyone=True)), stranger)
    assert may_edit(attrs.evolve(e, override=Override(groups=frozenset({"builders"}))), stranger)
    assert not may_edit(attrs.evolve(e, override=Override(groups=frozenset({"x"}))), stranger)


def test_override_never_grants_delete(make_entity):
    e = attrs.evolve(make_entity(), override=Override(anyone=True))
    with pytest.raises(NotOwner):
        check_owner_or_edit_any(e, Actor(OTHER))
    check_owner_or_edit_any(e, Actor(OTHER, edit_any=True))


def test_domain_content_needs_edit_any(make_entity):
    e = attrs.evolve(make_entity(), owner=None)
    assert not may_edit(e, Actor(OWNER))
    assert may_edit(e, Actor(OWNER, edit_any=True))


def test_lineage_keeps_parents_creator(make_entity):
    gift = make_entity(owner=OTHER, script="https://s/gift.js")
    assert lineage(OWNER, gift, rezzer_may_script=True) == OTHER
    assert lineage(OWNER, None, rezzer_may_script=False) == OWNER


def test_lineage_refuses_plain_parent_or_no_script_permission(make_entity):
    with pytest.raises(NotAllowed):
        lineage(OWNER, make_entity(owner=OTHER), rezzer_may_script=True)
    with pytest.raises(NotAllowed):
        lineage(OWNER, make_entity(owner=OTHER, script="s"), rezzer_may_script=False)


@pytest.mark.parametrize(
    "entity",
    [
        {"position": [0, 0, 0]},
        {"type": "", "position": [0, 0, 0]},
        {"type": "box", "position": [0, 0]},
        {"type": "box", "position": [0, 0, float("nan")]},
        {"type": "box", "position": [0, 0, 0], "lifetime": -1},
        {"type": "box", "position": [0, 0, 0], "dimensions": [0, 1, 1]},
        {"type": "box", "position": [0, 0, 0], "owner": OTHER},
        {"type": "box", "position": [0, 0, 0], "visible": "yes"},
        "not a map",
    ],
)
def test_rez_request_rejects_bad_input(entity):
    with pytest.raises(BadRequest):
        RezRequest.from_wire(entity)


def test_override_from_wire():
    assert override_from_wire(False, []) == Override()
    assert override_from_wire(True, ["a"]).admits(frozenset())
    with pytest.raises(BadRequest):
        override_from_wire("yes", [])


edit_values = st.one_of(
    st.none(),
    st.integers(),
    st.text(max_size=5),
    st.booleans(),
    st.lists(st.floats(allow_nan=False), max_size=3),
)


@settings(deadline=None, suppress_health_check=[HealthCheck.too_slow], max_examples=60)
@given(
    st.lists(
        st.dictionaries(
            st.sampled_from(
                [
                    "owner",
                    "creator",
                    "id",
                    "parent",
                    "created_at",
                    "type",
                    "position",
                    "visible",
                    "lifetime",
                    "props",
                    "script",
                    "dimensions",
                    "junk",
                ]
            ),
            edit_values,
            max_size=3,
        ),
        max_size=8,
    )
)
def test_no_edit_sequence_changes_identity(changes_list):
    from entities.rules import RezRequest, build_entity

    rule = LifetimeRule(temporary_only=True, default_temp=60, max_temp=600)
    e = build_entity(
        RezRequest.from_wire({"type": "box", "position": [0, 0, 0]}),
        entity_id="e1",
        owner=OWNER,
        creator=OTHER,
        now=5.0,
        rule=rule,
    )
    actors = [Actor(OWNER), Actor(OTHER, edit_any=True), Actor("c" * 32)]
    current = e
    for i, changes in enumerate(changes_list):
        try:
            current = apply_edit(current, actors[i % 3], changes, rule, allow_scripts)
        except (BadRequest, NotAllowed, NotOwner, OwnerImmutable):
            pass
        assert (current.owner, current.creator, current.id, current.parent, current.created_at) == (
            OWNER,
            OTHER,
            "e1",
            None,
            5.0,
        )
        assert current.expires_at is not None and current.expires_at <= 5.0 + 600
