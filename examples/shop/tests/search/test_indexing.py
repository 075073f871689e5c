"""Indexing documents: each test calls index_document (or client.index_document), the only sign of search."""

import pytest

from shop.search.client import SearchClient, SearchError, index_document, reset_index, search, suggest


@pytest.fixture(autouse=True)
def _fresh_index():
    reset_index()
    reset_index("blog")


def test_indexed_document_is_found():
    index_document("LMP-0001", {"name": "Desk lamp", "category": "lighting"})
    assert [r.id for r in search("lamp")] == ["LMP-0001"]


def test_reindex_replaces_fields():
    index_document("LMP-0001", {"name": "Desk lamp"})
    index_document("LMP-0001", {"name": "Reading light"})
    assert search("lamp") == []
    assert search("reading")[0].title == "Reading light"


def test_all_terms_must_match():
    index_document("LMP-0001", {"name": "Desk lamp"})
    index_document("LMP-0002", {"name": "Floor lamp"})
    assert [r.id for r in search("floor lamp")] == ["LMP-0002"]


def test_score_counts_term_frequency():
    index_document("A", {"name": "lamp", "description": "a lamp, the best lamp"})
    index_document("B", {"name": "lamp"})
    results = search("lamp")
    assert [r.id for r in results] == ["A", "B"]
    assert results[0].score == 3.0


@pytest.mark.parametrize("index", ["products", "blog"])
def test_indexes_are_separate(index):
    client = SearchClient()
    client.index_document("doc-1", {"title": "Lamp buying guide"}, index=index)
    other = "blog" if index == "products" else "products"
    assert [r.id for r in client.search("guide", index=index)] == ["doc-1"]
    assert client.search("guide", index=other) == []


def test_suggest_prefix():
    index_document("LMP-0001", {"name": "Lamp lampshade landscape"})
    assert suggest("lam") == ["lamp", "lampshade"]


def test_bad_fields_rejected():
    with pytest.raises(SearchError):
        SearchClient().index_document("x", ["not", "an", "object"])
