"""The search HTTP API end to end; only the directory (a `paths` rule) says these tests need search."""

import pytest
import requests

from shop.search.client import SearchClient, search
from shop.settings import settings


def test_health():
    assert requests.get(settings.SEARCH_URL + "/health", timeout=2).json() == {"status": "ok"}


def test_unknown_route_is_404():
    assert requests.get(settings.SEARCH_URL + "/nowhere", timeout=2).status_code == 404


@pytest.mark.parametrize(
    ("query", "ids"),
    [
        ("lamp", ["BOK-0002", "LMP-0001", "LMP-0002"]),
        ("desk", ["LMP-0001"]),
        ("lamp category:books", ["BOK-0002"]),
        ("category:kitchen", ["MUG-0001"]),
        ("sofa", []),
    ],
)
def test_queries(query, ids):
    assert sorted(r.id for r in search(query)) == ids


def test_results_carry_fields():
    (hit,) = search("cookbook")
    assert hit.fields["category"] == "books"


def test_delete_document():
    client = SearchClient()
    client.delete_document("MUG-0001")
    assert client.search("mug") == []
    assert client.stats()["documents"] == 4


def test_total_in_raw_response():
    data = requests.get(SearchClient().url_for("products", "search"), params={"q": "lamp"}, timeout=2).json()
    assert data["total"] == 3
