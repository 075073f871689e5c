"""Suggestions from the seeded index; needs search through the directory only."""

import pytest

from shop.search.client import suggest


@pytest.mark.parametrize(("prefix", "words"), [("la", ["lamp"]), ("co", ["coffee", "cookbook"]), ("zz", [])])
def test_suggest(prefix, words):
    assert suggest(prefix) == words


def test_suggest_folds_case():
    assert suggest("LIN") == ["linen"]
