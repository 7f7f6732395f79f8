"""Rate buckets: one second's worth, at least one request, refusals spend nothing."""

import pytest

from entities import RateBuckets


@pytest.mark.parametrize("rate", [0.5, 0.1, 0.01])
def test_a_rate_below_one_admits_one_request_per_period(rate):
    buckets = RateBuckets()
    assert buckets.take("k", rate, 0.0)  # a fresh bucket holds one request
    assert not buckets.take("k", rate, 0.0)
    period = 1 / rate
    assert not buckets.take("k", rate, period * 0.9)
    assert buckets.take("k", rate, period * 1.01)
    # Idle for ages, it still holds only one: no burst of saved-up requests.
    assert buckets.take("k", rate, period * 1000)
    assert not buckets.take("k", rate, period * 1000)


def test_a_rate_of_ten_holds_ten_and_refusals_spend_nothing():
    buckets = RateBuckets()
    assert [buckets.take("k", 10, 0.0) for _ in range(11)] == [True] * 10 + [False]
    for _ in range(100):
        assert not buckets.take("k", 10, 0.05)  # refused: nothing spent
    assert buckets.take("k", 10, 0.1)


def test_a_zero_rate_admits_nothing():
    assert not RateBuckets().take("k", 0, 0.0)
