"""Search API integration tests: an autouse fixture empties the index (no fixture names the service)."""

import pytest

from shop.search.client import bulk_index, reset_index

DOCUMENTS = [
    ("LMP-0001", {"name": "Desk lamp", "category": "lighting", "description": "LED desk lamp"}),
    ("LMP-0002", {"name": "Floor lamp", "category": "lighting", "description": "Linen shade"}),
    ("BOK-0001", {"name": "Python cookbook", "category": "books", "description": "Recipes"}),
    ("BOK-0002", {"name": "Lamp repair handbook", "category": "books", "description": "Wiring basics"}),
    ("MUG-0001", {"name": "Coffee mug", "category": "kitchen", "description": "Stoneware"}),
]


@pytest.fixture(autouse=True)
def _seeded_index():
    reset_index()
    bulk_index(DOCUMENTS)
