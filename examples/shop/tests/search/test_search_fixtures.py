"""Search through fixtures: a local fixture that calls index_document, and the plugin's search_client."""

import pytest

from shop.search.client import index_document, reset_index, search

CATALOG = {
    "LMP-0001": {"name": "Desk lamp", "category": "lighting"},
    "LMP-0002": {"name": "Floor lamp", "category": "lighting"},
    "MUG-0001": {"name": "Coffee mug", "category": "kitchen"},
}


@pytest.fixture
def catalog_index():
    """Indexes CATALOG one document at a time (this call is the `calls` signal)."""
    reset_index("fixture-catalog")
    for doc_id, fields in CATALOG.items():
        index_document(doc_id, fields, index="fixture-catalog")
    return "fixture-catalog"


def test_category_filter(catalog_index):
    assert [r.id for r in search("lamp category:lighting", index=catalog_index)] == ["LMP-0001", "LMP-0002"]


def test_no_match(catalog_index):
    assert search("sofa", index=catalog_index) == []


@pytest.mark.parametrize(("query", "ids"), [("mug", ["MUG-0001"]), ("desk lamp", ["LMP-0001"])])
def test_queries(catalog_index, query, ids):
    assert [r.id for r in search(query, index=catalog_index)] == ids


def test_plugin_client_starts_empty(search_client):
    assert search_client.stats() == {"documents": 0, "terms": 0}


def test_plugin_client_bulk(search_client):
    assert search_client.bulk_index(CATALOG.items()) == 3
    assert search_client.stats()["documents"] == 3
