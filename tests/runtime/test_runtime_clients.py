"""`testmap record` sees each client library's traffic and attributes it to the test.

Pure-Python clients (redis-py, requests, urllib3) and C libraries (libpq under psycopg2,
psycopg 3's bundled libpq, libmemcached under pylibmc) alike; TCP, Unix sockets, TLS,
asyncio and worker threads alike. Each throw-away project has one test that uses the
service and one that uses nothing, so an attribution to every test or to none fails.
"""

from __future__ import annotations

PLAIN = """

def test_plain():
    assert sum(range(10)) == 45
"""


def assert_only(recorded, nodeid: str, services: dict[str, set[str]]) -> None:
    """NODEID used exactly SERVICES (phase -> names); no other test used anything; every
    test passed."""
    assert recorded.proc.returncode == 0, recorded.describe()
    assert recorded.services() == {nodeid: services}, recorded.describe()
    outcomes = recorded.outcomes()
    assert outcomes[nodeid] == "passed"
    assert outcomes["test_client.py::test_plain"] == "passed"


def test_psycopg2_over_tcp_is_postgres(record, live):
    recorded = record(
        {
            "test_client.py": """
import psycopg2

from addresses import PG


def test_query():
    conn = psycopg2.connect(**PG)
    try:
        with conn.cursor() as cur:
            cur.execute("select 41 + 1")
            assert cur.fetchone() == (42,)
    finally:
        conn.close()
"""
            + PLAIN
        },
        services={"postgres": {"ports": [live.postgres.port]}},
    )
    assert_only(recorded, "test_client.py::test_query", {"call": {"postgres"}})


def test_psycopg2_over_the_unix_socket_is_postgres(record, live):
    # Only the port is configured: its `.s.PGSQL.<port>` socket is postgres too.
    recorded = record(
        {
            "test_client.py": """
import psycopg2

from addresses import PG, PG_SOCKET_DIR


def test_query():
    conn = psycopg2.connect(**dict(PG, host=PG_SOCKET_DIR))
    try:
        with conn.cursor() as cur:
            # no server address: the connection is not TCP
            cur.execute("select inet_server_addr(), 6 * 7")
            assert cur.fetchone() == (None, 42)
    finally:
        conn.close()
"""
            + PLAIN
        },
        services={"postgres": {"ports": [live.postgres.port]}},
    )
    assert_only(recorded, "test_client.py::test_query", {"call": {"postgres"}})


def test_psycopg3_is_postgres(record, live):
    # No ports in pyproject.toml: the conftest declares the server from Python.
    recorded = record(
        {
            "conftest.py": """
import pytest

import testmap.runtime
from addresses import PG_PORT


@pytest.fixture(scope="session", autouse=True)
def _declare():
    testmap.runtime.declare_service("postgres", port=PG_PORT)
""",
            "test_client.py": """
import psycopg

from addresses import PG


def test_query():
    with psycopg.connect(**PG) as conn:
        assert conn.execute("select %s::int * 2", (21,)).fetchone() == (42,)
"""
            + PLAIN,
        },
    )
    assert_only(recorded, "test_client.py::test_query", {"call": {"postgres"}})


def test_redis_py_is_redis(record, live):
    recorded = record(
        {
            "test_client.py": """
import redis

from addresses import REDIS_PORT


def test_set_get():
    client = redis.Redis(host="127.0.0.1", port=REDIS_PORT)
    try:
        client.set("tm-redis-py", "hello")
        assert client.get("tm-redis-py") == b"hello"
    finally:
        client.close()
"""
            + PLAIN
        },
        services={"redis": {"ports": [live.redis.port]}},
    )
    assert_only(recorded, "test_client.py::test_set_get", {"call": {"redis"}})


def test_pylibmc_through_libmemcached_is_memcached(record, live):
    recorded = record(
        {
            "test_client.py": """
import pylibmc

from addresses import MEMCACHED


def test_set_get():
    client = pylibmc.Client([MEMCACHED])
    try:
        assert client.set("tm-pylibmc", "hello")
        assert client.get("tm-pylibmc") == "hello"
    finally:
        client.disconnect_all()
"""
            + PLAIN
        },
        services={"memcached": {"ports": [live.memcached.port]}},
    )
    assert_only(recorded, "test_client.py::test_set_get", {"call": {"memcached"}})


# A tiny search service in a thread of the pytest process, on a port chosen at run time and
# so declared from Python. Its fixture sends nothing itself: only the client's requests are
# traffic to `search`.
SEARCH_CONFTEST = """
import json
import ssl
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

import testmap.runtime
from addresses import TLS_CERT, TLS_KEY


class Handler(BaseHTTPRequestHandler):
    def do_GET(self):
        body = json.dumps({"path": self.path, "hits": ["lamp"]}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def _serve(tls):
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    if tls:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(TLS_CERT, TLS_KEY)
        server.socket = context.wrap_socket(server.socket, server_side=True)
    port = server.server_address[1]
    testmap.runtime.declare_service("search", port=port)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    return server, thread, f"{'https' if tls else 'http'}://127.0.0.1:{port}"


@pytest.fixture
def search_url():
    server, thread, url = _serve(tls=False)
    yield url
    server.shutdown()
    server.server_close()
    thread.join()


@pytest.fixture
def search_tls_url():
    server, thread, url = _serve(tls=True)
    yield url
    server.shutdown()
    server.server_close()
    thread.join()
"""


def test_http_through_urllib3_is_the_declared_service(record):
    recorded = record(
        {
            "conftest.py": SEARCH_CONFTEST,
            "test_client.py": """
import json

import urllib3


def test_search(search_url):
    with urllib3.PoolManager() as http:
        response = http.request("GET", search_url + "/search?q=lamp")
    assert response.status == 200
    assert json.loads(response.data) == {"path": "/search?q=lamp", "hits": ["lamp"]}
"""
            + PLAIN,
        },
    )
    assert_only(recorded, "test_client.py::test_search", {"call": {"search"}})


def test_http_through_requests_is_the_declared_service(record):
    recorded = record(
        {
            "conftest.py": SEARCH_CONFTEST,
            "test_client.py": """
import requests


def test_search(search_url):
    with requests.Session() as session:
        response = session.get(search_url + "/search", params={"q": "desk"}, timeout=10)
    assert response.status_code == 200
    assert response.json() == {"path": "/search?q=desk", "hits": ["lamp"]}
"""
            + PLAIN,
        },
    )
    assert_only(recorded, "test_client.py::test_search", {"call": {"search"}})


def test_https_traffic_is_still_attributed(record):
    # The certificate is verified (it is its own CA): the request really went over TLS.
    recorded = record(
        {
            "conftest.py": SEARCH_CONFTEST,
            "test_client.py": """
import requests

from addresses import TLS_CERT


def test_search(search_tls_url):
    assert search_tls_url.startswith("https://")
    with requests.Session() as session:
        response = session.get(search_tls_url + "/search?q=lamp", verify=TLS_CERT, timeout=10)
    assert response.status_code == 200
    assert response.json()["hits"] == ["lamp"]
"""
            + PLAIN,
        },
    )
    assert_only(recorded, "test_client.py::test_search", {"call": {"search"}})


def test_asyncio_redis_client_is_redis(record, live):
    recorded = record(
        {
            "test_client.py": """
import asyncio

import redis.asyncio

from addresses import REDIS_PORT


async def roundtrip(port):
    client = redis.asyncio.Redis(host="127.0.0.1", port=port)
    try:
        await client.set("tm-asyncio", "hello")
        return await client.get("tm-asyncio")
    finally:
        await client.aclose()


def test_async_set_get():
    assert asyncio.run(roundtrip(REDIS_PORT)) == b"hello"
"""
            + PLAIN
        },
        services={"redis": {"ports": [live.redis.port]}},
    )
    assert_only(recorded, "test_client.py::test_async_set_get", {"call": {"redis"}})


def test_connections_from_a_thread_pool_count_for_the_test(record, live):
    recorded = record(
        {
            "test_client.py": """
import threading
from concurrent.futures import ThreadPoolExecutor

import psycopg2

from addresses import PG


def query(n):
    assert threading.current_thread() is not threading.main_thread()
    conn = psycopg2.connect(**PG)
    try:
        with conn.cursor() as cur:
            cur.execute("select %s + 0", (n,))
            return cur.fetchone()[0]
    finally:
        conn.close()


def test_pool():
    with ThreadPoolExecutor(max_workers=4) as pool:
        assert sorted(pool.map(query, range(8))) == list(range(8))
"""
            + PLAIN
        },
        services={"postgres": {"ports": [live.postgres.port]}},
    )
    assert_only(recorded, "test_client.py::test_pool", {"call": {"postgres"}})
