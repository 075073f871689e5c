"""The search service: a stdlib HTTP server with an in-memory inverted index and JSON endpoints."""

from __future__ import annotations

import argparse
import json
import threading
from collections import Counter, defaultdict
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from shop.search.query import fold, parse_query, tokenize


class Index:
    """Documents by id, and for each term the documents containing it with its frequency."""

    def __init__(self) -> None:
        self.docs: dict[str, dict[str, Any]] = {}
        self.postings: dict[str, Counter[str]] = defaultdict(Counter)

    def _terms(self, fields: dict[str, Any]) -> Counter[str]:
        return Counter(t for value in fields.values() if isinstance(value, str) for t in tokenize(value))

    def put(self, doc_id: str, fields: dict[str, Any]) -> None:
        self.delete(doc_id)
        self.docs[doc_id] = fields
        for term, n in self._terms(fields).items():
            self.postings[term][doc_id] = n

    def delete(self, doc_id: str) -> bool:
        fields = self.docs.pop(doc_id, None)
        if fields is None:
            return False
        for term in self._terms(fields):
            self.postings[term].pop(doc_id, None)
            if not self.postings[term]:
                del self.postings[term]
        return True

    def search(self, query: str, limit: int) -> list[dict[str, Any]]:
        terms, filters = parse_query(query)
        candidates = set(self.docs)
        for term in terms:
            candidates &= set(self.postings.get(term, ()))
        scores = {d: sum(self.postings[t][d] for t in terms) for d in candidates}
        hits = [
            {"id": doc_id, "score": float(score), "fields": self.docs[doc_id]}
            for doc_id, score in scores.items()
            if all(fold(str(self.docs[doc_id].get(k, ""))) == v for k, v in filters.items())
        ]
        hits.sort(key=lambda h: (-h["score"], h["id"]))
        return hits[:limit]

    def suggest(self, prefix: str) -> list[str]:
        prefix = fold(prefix)
        return sorted(t for t in self.postings if t.startswith(prefix))[:10]


class SearchService:
    def __init__(self) -> None:
        self.indexes: dict[str, Index] = defaultdict(Index)
        self.lock = threading.Lock()


class Handler(BaseHTTPRequestHandler):
    server_version = "shop-search/1.0"
    service: SearchService

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _send(self, status: int, body: Any) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _body(self) -> Any:
        length = int(self.headers.get("Content-Length") or 0)
        return json.loads(self.rfile.read(length) or b"{}")

    def _route(self) -> tuple[list[str], dict[str, list[str]]]:
        url = urlsplit(self.path)
        return [unquote(p) for p in url.path.strip("/").split("/") if p], parse_qs(url.query)

    def do_GET(self) -> None:
        parts, query = self._route()
        if parts == ["health"]:
            return self._send(200, {"status": "ok"})
        if len(parts) == 3 and parts[0] == "indexes":
            with self.service.lock:
                index = self.service.indexes[parts[1]]
                if parts[2] == "search":
                    limit = int(query.get("limit", ["10"])[0])
                    hits = index.search(query.get("q", [""])[0], limit)
                    return self._send(200, {"hits": hits, "total": len(hits)})
                if parts[2] == "suggest":
                    return self._send(200, {"suggestions": index.suggest(query.get("prefix", [""])[0])})
                if parts[2] == "stats":
                    return self._send(200, {"documents": len(index.docs), "terms": len(index.postings)})
        return self._send(404, {"error": "not found"})

    def do_PUT(self) -> None:
        parts, _ = self._route()
        if len(parts) == 4 and parts[0] == "indexes" and parts[2] == "documents":
            fields = self._body().get("fields")
            if not isinstance(fields, dict):
                return self._send(400, {"error": "fields must be an object"})
            with self.service.lock:
                self.service.indexes[parts[1]].put(parts[3], fields)
            return self._send(200, {"id": parts[3]})
        return self._send(404, {"error": "not found"})

    def do_POST(self) -> None:
        parts, _ = self._route()
        if len(parts) == 3 and parts[0] == "indexes" and parts[2] == "bulk":
            docs = self._body().get("documents", [])
            with self.service.lock:
                for doc in docs:
                    self.service.indexes[parts[1]].put(str(doc["id"]), dict(doc["fields"]))
            return self._send(200, {"indexed": len(docs)})
        return self._send(404, {"error": "not found"})

    def do_DELETE(self) -> None:
        parts, _ = self._route()
        with self.service.lock:
            if len(parts) == 2 and parts[0] == "indexes":
                self.service.indexes.pop(parts[1], None)
                return self._send(200, {"deleted": parts[1]})
            is_document = len(parts) == 4 and parts[0] == "indexes" and parts[2] == "documents"
            if is_document and self.service.indexes[parts[1]].delete(parts[3]):
                return self._send(200, {"deleted": parts[3]})
        return self._send(404, {"error": "not found"})


def make_server(host: str, port: int) -> ThreadingHTTPServer:
    handler = type("BoundHandler", (Handler,), {"service": SearchService()})
    return ThreadingHTTPServer((host, port), handler)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args(argv)
    server = make_server(args.host, args.port)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


if __name__ == "__main__":
    main()
