"""Search result types and client constants: imports from the search client, but needs no service."""

import pytest

from shop.search.client import DEFAULT_INDEX, MAX_RESULTS, SEARCH_TIMEOUT, SearchClient, SearchError, SearchResult


def test_timeout_is_short():
    assert 0 < SEARCH_TIMEOUT <= 5


def test_default_index():
    assert DEFAULT_INDEX == "products"


def test_result_from_json():
    result = SearchResult.from_json({"id": 7, "score": "2", "fields": {"name": "Lamp"}})
    assert result == SearchResult(id="7", score=2.0, fields={"name": "Lamp"})


@pytest.mark.parametrize(("fields", "title"), [({"name": "Desk"}, "Desk"), ({}, "ABC-0001")])
def test_result_title(fields, title):
    assert SearchResult("ABC-0001", 1.0, fields).title == title


def test_search_error_is_runtime_error():
    assert issubclass(SearchError, RuntimeError)


def test_url_for_quotes_parts():
    client = SearchClient(base_url="http://search.invalid/")
    assert client.url_for("products", "documents", "a/b") == "http://search.invalid/indexes/products/documents/a%2Fb"


def test_limit_checked_before_any_request():
    client = SearchClient(base_url="http://search.invalid")
    with pytest.raises(ValueError):
        client.search("lamp", limit=MAX_RESULTS + 1)
