from permissions import BanList

A, B, C = "a" * 32, "b" * 32, "c" * 32


def test_permanent_and_timed_bans():
    bans = BanList()
    bans.add(A)
    bans.add(B, expires_at=100.0)
    assert bans.is_banned(A, now=1e9)
    assert bans.is_banned(B, now=99.9) and not bans.is_banned(B, now=100.0)
    assert not bans.is_banned(C, now=0)
    assert bans.next_expiry() == 100.0
    assert bans.pop_expired(now=100.0) == [B]
    assert B not in bans and len(bans) == 1


def test_a_new_ban_replaces_the_old_one():
    bans = BanList()
    bans.add(A, expires_at=10.0)
    bans.add(A)  # now permanent: the old deadline must not lift it
    assert bans.pop_expired(now=1e9) == []
    assert bans.is_banned(A, now=1e9)
    bans.add(A, expires_at=50.0)
    assert bans.expires_at(A) == 50.0 and bans.pop_expired(now=60.0) == [A]


def test_remove_and_bulk_load():
    bans = BanList()
    bans.bulk_load([(A, None), (B, 5.0)])
    assert len(bans) == 2 and bans.next_expiry() == 5.0
    assert bans.remove(B) and not bans.remove(B)
    assert bans.next_expiry() is None
    assert bans.pop_expired(now=1e9) == []
    assert bans.is_banned(A, now=0)
