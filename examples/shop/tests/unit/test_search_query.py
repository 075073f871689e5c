"""Query tokenizing and parsing; the module also imports a type from the search client (no service)."""

import pytest

from shop.search import client as search_client
from shop.search.query import fold, parse_query, tokenize


@pytest.mark.parametrize(
    ("text", "tokens"),
    [
        ("Red Shoes", ["red", "shoes"]),
        ("Crème brûlée", ["creme", "brulee"]),
        ("a lamp for the desk", ["lamp", "desk"]),
        ("USB-C 3.1", ["usb", "c", "3", "1"]),
    ],
)
def test_tokenize(text, tokens):
    assert tokenize(text) == tokens


def test_keep_stop_words():
    assert tokenize("the lamp", keep_stop_words=True) == ["the", "lamp"]


def test_fold():
    assert fold("ÉTÉ") == "ete"


def test_parse_filters():
    assert parse_query("red shoes category:Sport") == (["red", "shoes"], {"category": "sport"})


def test_results_sort_by_score():
    results = [search_client.SearchResult("a", 1.0), search_client.SearchResult("b", 3.0)]
    assert [r.id for r in sorted(results, key=lambda r: -r.score)] == ["b", "a"]
