"""HTTP client of the search service (shop/search_server.py), plus its constants and result types."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import requests

from shop.settings import settings

SEARCH_TIMEOUT = 2.0
DEFAULT_INDEX = "products"
MAX_RESULTS = 50


class SearchError(RuntimeError):
    """The search service answered with an error."""


@dataclass(frozen=True)
class SearchResult:
    id: str
    score: float
    fields: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> SearchResult:
        return cls(id=str(data["id"]), score=float(data["score"]), fields=dict(data.get("fields", {})))

    @property
    def title(self) -> str:
        return str(self.fields.get("name", self.id))


class SearchClient:
    """Talks to SEARCH_URL (resolved at each request, so creating a client never connects)."""

    def __init__(self, base_url: str | None = None, timeout: float = SEARCH_TIMEOUT) -> None:
        self._base_url = base_url
        self.timeout = timeout

    @property
    def base_url(self) -> str:
        return (self._base_url or settings.require("SEARCH_URL")).rstrip("/")

    def url_for(self, index: str, *parts: str) -> str:
        path = "/".join(quote(p, safe="") for p in (index, *parts))
        return f"{self.base_url}/indexes/{path}"

    def _request(self, method: str, url: str, **kw: Any) -> Any:
        response = requests.request(method, url, timeout=self.timeout, **kw)
        if response.status_code >= 400:
            raise SearchError(f"{method} {url}: {response.status_code} {response.text}")
        return response.json()

    def index_document(self, doc_id: str, fields: Mapping[str, Any], index: str = DEFAULT_INDEX) -> None:
        body = {"fields": dict(fields) if isinstance(fields, Mapping) else fields}  # the server validates
        self._request("PUT", self.url_for(index, "documents", doc_id), json=body)

    def bulk_index(self, docs: Iterable[tuple[str, Mapping[str, Any]]], index: str = DEFAULT_INDEX) -> int:
        payload = {"documents": [{"id": doc_id, "fields": dict(fields)} for doc_id, fields in docs]}
        return int(self._request("POST", self.url_for(index, "bulk"), json=payload)["indexed"])

    def search(self, query: str, index: str = DEFAULT_INDEX, limit: int = 10) -> list[SearchResult]:
        if not 1 <= limit <= MAX_RESULTS:
            raise ValueError(f"limit must be within 1..{MAX_RESULTS}")
        data = self._request("GET", self.url_for(index, "search"), params={"q": query, "limit": limit})
        return [SearchResult.from_json(hit) for hit in data["hits"]]

    def suggest(self, prefix: str, index: str = DEFAULT_INDEX) -> list[str]:
        return list(self._request("GET", self.url_for(index, "suggest"), params={"prefix": prefix})["suggestions"])

    def delete_document(self, doc_id: str, index: str = DEFAULT_INDEX) -> None:
        self._request("DELETE", self.url_for(index, "documents", doc_id))

    def stats(self, index: str = DEFAULT_INDEX) -> dict[str, int]:
        return dict(self._request("GET", self.url_for(index, "stats")))

    def reset_index(self, index: str = DEFAULT_INDEX) -> None:
        self._request("DELETE", self.url_for(index))


_default = SearchClient()


def index_document(doc_id: str, fields: Mapping[str, Any], index: str = DEFAULT_INDEX) -> None:
    _default.index_document(doc_id, fields, index)


def bulk_index(docs: Iterable[tuple[str, Mapping[str, Any]]], index: str = DEFAULT_INDEX) -> int:
    return _default.bulk_index(docs, index)


def search(query: str, index: str = DEFAULT_INDEX, limit: int = 10) -> list[SearchResult]:
    return _default.search(query, index, limit)


def suggest(prefix: str, index: str = DEFAULT_INDEX) -> list[str]:
    return _default.suggest(prefix, index)


def reset_index(index: str = DEFAULT_INDEX) -> None:
    _default.reset_index(index)
