import pytest

from entities import Actor, LifetimeRule
from entities.rules import RezRequest, build_entity

OWNER = "a" * 32
OTHER = "b" * 32


@pytest.fixture
def temp_rule():
    return LifetimeRule(temporary_only=True, default_temp=60, max_temp=600)


@pytest.fixture
def perm_rule():
    return LifetimeRule(temporary_only=False, default_temp=60, max_temp=600)


@pytest.fixture
def make_entity(perm_rule):
    counter = iter(range(1_000_000))

    def make(
        owner=OWNER,
        position=(0, 0, 0),
        visible=True,
        script=None,
        lifetime=None,
        parent=None,
        creator=None,
        rule=None,
        now=1000.0,
    ):
        request = RezRequest.from_wire(
            {
                "type": "box",
                "position": list(position),
                "visible": visible,
                "script": script,
                "lifetime": lifetime,
            },
            parent,
        )
        return build_entity(
            request,
            entity_id=f"e{next(counter)}",
            owner=owner,
            creator=creator or owner,
            now=now,
            rule=rule or perm_rule,
        )

    return make


@pytest.fixture
def owner():
    return Actor(OWNER)


@pytest.fixture
def stranger():
    return Actor(OTHER)
