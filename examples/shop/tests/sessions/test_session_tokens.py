"""Token signing: looks like pure logic, but the directory's autouse fixture flushes Redis first."""

import pytest

from shop.sessions import BadToken, new_session_id, sign, unsign


def test_session_ids_are_unique():
    assert len({new_session_id() for _ in range(100)}) == 100


def test_roundtrip():
    assert unsign(sign("abc")) == "abc"


@pytest.mark.parametrize("token", ["abc", "abc.", ".deadbeef", "abc.0000000000000000"])
def test_rejects_bad_tokens(token):
    with pytest.raises(BadToken):
        unsign(token)


def test_key_matters():
    with pytest.raises(BadToken):
        unsign(sign("abc", key="one"), key="two")
