"""Relevance: a SearchTestCase subclass (unittest) and functions marked @pytest.mark.search."""

import pytest

from shop.search.client import SearchClient
from shop.testing import SearchTestCase


class RelevanceTests(SearchTestCase):
    search_indexes = ("products", "relevance")

    def setUp(self):
        super().setUp()
        self.search.bulk_index(
            [
                ("A", {"name": "lamp", "description": "lamp lamp"}),
                ("B", {"name": "lamp"}),
                ("C", {"name": "Lampe", "description": "French lamp"}),
            ],
            index="relevance",
        )

    def test_ranked_by_frequency(self):
        self.assertEqual([r.id for r in self.search.search("lamp", index="relevance")], ["A", "B", "C"])

    def test_accents_folded(self):
        self.assertEqual([r.id for r in self.search.search("frénch", index="relevance")], ["C"])

    def test_limit(self):
        self.assertEqual(len(self.search.search("lamp", index="relevance", limit=2)), 2)


@pytest.mark.search
def test_health_of_empty_index():
    client = SearchClient()
    client.reset_index("empty")
    assert client.stats("empty") == {"documents": 0, "terms": 0}


@pytest.mark.search
@pytest.mark.parametrize("prefix", ["zz", "qq"])
def test_suggest_nothing(prefix):
    assert SearchClient().suggest(prefix, index="empty") == []
