"""Which test and which phase traffic is attributed to: connections kept across tests,
fixtures of every scope, tests that use nothing, and how services are declared."""

from __future__ import annotations

import shutil
import subprocess
import sys


def test_a_pooled_connection_counts_for_the_test_that_sends_on_it(record, live):
    # test_a opens the client's connection; test_b only sends on that same connection
    # (same server-side client id), so redis is in test_b's call phase too.
    recorded = record(
        {
            "test_pool.py": """
import redis

from addresses import REDIS_PORT

CLIENT = redis.Redis(host="127.0.0.1", port=REDIS_PORT)
SEEN = {}


def test_a():
    SEEN["client_id"] = CLIENT.client_id()


def test_b():
    assert CLIENT.client_id() == SEEN["client_id"]


def test_c_plain():
    assert SEEN
"""
        },
        services={"redis": {"ports": [live.redis.port]}},
    )
    assert recorded.proc.returncode == 0, recorded.describe()
    assert recorded.services() == {
        "test_pool.py::test_a": {"call": {"redis"}},
        "test_pool.py::test_b": {"call": {"redis"}},
    }


def test_a_connect_counts_even_when_nothing_is_sent(record, live):
    # test_connect only connects; test_send sends on that socket without connecting.
    recorded = record(
        {
            "test_socket.py": """
import socket

from addresses import REDIS

SOCKETS = []


def test_connect():
    SOCKETS.append(socket.create_connection(REDIS, timeout=10))


def test_send():
    sock = SOCKETS.pop()
    sock.sendall(b"PING\\r\\n")
    assert sock.recv(64).startswith(b"+PONG")
    sock.close()


def test_plain():
    assert not SOCKETS
"""
        },
        services={"redis": {"ports": [live.redis.port]}},
    )
    assert recorded.proc.returncode == 0, recorded.describe()
    assert recorded.services() == {
        "test_socket.py::test_connect": {"call": {"redis"}},
        "test_socket.py::test_send": {"call": {"redis"}},
    }


SEND_CALLS = ("send", "sendto", "sendmsg", "write", "writev", "sendfile", "dup")


def test_each_send_call_counts_for_the_test_that_makes_it(record, live):
    # All connections are made by test_0_connect; each later test sends a PING through one
    # call of the send family (or on a dup of the descriptor) and so uses redis.
    recorded = record(
        {
            "test_send.py": """
import os
import socket

from addresses import OUT, REDIS

SOCKS = {}


def test_0_connect():
    for name in ("send", "sendto", "sendmsg", "write", "writev", "sendfile", "dup"):
        SOCKS[name] = socket.create_connection(REDIS, timeout=10)


def pong(sock):
    assert sock.recv(64) == b"+PONG\\r\\n"
    sock.close()


def test_send():
    sock = SOCKS["send"]
    assert sock.send(b"PING\\r\\n") == 6
    pong(sock)


def test_sendto():
    sock = SOCKS["sendto"]
    assert sock.sendto(b"PING\\r\\n", REDIS) == 6
    pong(sock)


def test_sendmsg():
    sock = SOCKS["sendmsg"]
    assert sock.sendmsg([b"PI", b"NG\\r\\n"]) == 6
    pong(sock)


def test_write():
    sock = SOCKS["write"]
    assert os.write(sock.fileno(), b"PING\\r\\n") == 6
    pong(sock)


def test_writev():
    sock = SOCKS["writev"]
    assert os.writev(sock.fileno(), [b"PI", b"NG\\r\\n"]) == 6
    pong(sock)


def test_sendfile():
    sock = SOCKS["sendfile"]
    path = OUT / "ping.txt"
    path.write_bytes(b"PING\\r\\n")
    with open(path, "rb") as f:
        assert os.sendfile(sock.fileno(), f.fileno(), 0, 6) == 6
    pong(sock)


def test_dup():
    original = SOCKS["dup"]
    sock = original.dup()
    original.close()
    sock.sendall(b"PING\\r\\n")
    pong(sock)


def test_plain():
    assert not [s for s in SOCKS.values() if s.fileno() != -1]
"""
        },
        services={"redis": {"ports": [live.redis.port]}},
    )
    assert recorded.proc.returncode == 0, recorded.describe()
    expected = {f"test_send.py::test_{name}": {"call": {"redis"}} for name in SEND_CALLS}
    expected["test_send.py::test_0_connect"] = {"call": {"redis"}}
    assert recorded.services() == expected


def test_fixture_traffic_goes_to_the_setup_and_teardown_phases(record, live):
    recorded = record(
        {
            "conftest.py": """
import psycopg2
import pytest

from addresses import PG


@pytest.fixture
def pg_conn():
    conn = psycopg2.connect(**PG)
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute("create temporary table tm_phase (n int)")
    yield conn
    with conn.cursor() as cur:
        cur.execute("drop table tm_phase")
    conn.close()
""",
            "test_phases.py": """
import redis

from addresses import REDIS_PORT


def test_phases(pg_conn):
    client = redis.Redis(host="127.0.0.1", port=REDIS_PORT)
    try:
        assert client.ping()
    finally:
        client.close()
""",
        },
        services={
            "postgres": {"ports": [live.postgres.port]},
            "redis": {"ports": [live.redis.port]},
        },
    )
    assert recorded.proc.returncode == 0, recorded.describe()
    assert recorded.services() == {
        "test_phases.py::test_phases": {
            "setup": {"postgres"},
            "call": {"redis"},
            "teardown": {"postgres"},
        }
    }


def test_a_session_fixture_is_shared_setup_of_the_first_test(record, live):
    # The session fixture connects while the first test is set up: that test's setup, marked
    # shared. The second test's own function fixture is its setup, not shared.
    recorded = record(
        {
            "conftest.py": """
import psycopg2
import pytest
import redis

from addresses import PG, REDIS_PORT


@pytest.fixture(scope="session")
def shared_redis():
    client = redis.Redis(host="127.0.0.1", port=REDIS_PORT)
    assert client.ping()
    yield client


@pytest.fixture
def fresh_pg():
    conn = psycopg2.connect(**PG)
    yield conn
    conn.close()
""",
            "test_shared.py": """
def test_first(shared_redis):
    pass


def test_second(shared_redis, fresh_pg):
    pass
""",
        },
        services={
            "postgres": {"ports": [live.postgres.port]},
            "redis": {"ports": [live.redis.port]},
        },
    )
    assert recorded.proc.returncode == 0, recorded.describe()
    services = recorded.services()
    assert services.get("test_shared.py::test_first") == {"setup": {"redis"}}, services
    assert services.get("test_shared.py::test_second", {}).get("setup") == {"postgres"}
    rules = {(nodeid, phase, service): rule for nodeid, phase, service, rule in recorded.rows()}
    assert rules[("test_shared.py::test_first", "setup", "redis")] == "runtime-shared"
    assert rules[("test_shared.py::test_second", "setup", "postgres")] == "runtime"


def test_a_module_fixture_torn_down_after_the_last_test_is_shared_teardown(record, live):
    # The module fixture's teardown talks to Redis after the module's last test, which never
    # uses Redis itself: its teardown has Redis marked shared, and its own fixture's Postgres.
    recorded = record(
        {
            "test_mod.py": """
import psycopg2
import pytest
import redis

from addresses import PG, REDIS_PORT


@pytest.fixture(scope="module")
def module_redis():
    yield
    client = redis.Redis(host="127.0.0.1", port=REDIS_PORT)
    client.flushdb()
    client.close()


@pytest.fixture
def own_pg():
    yield
    conn = psycopg2.connect(**PG)
    conn.close()


def test_first(module_redis):
    pass


def test_last(module_redis, own_pg):
    pass
""",
        },
        services={
            "postgres": {"ports": [live.postgres.port]},
            "redis": {"ports": [live.redis.port]},
        },
    )
    assert recorded.proc.returncode == 0, recorded.describe()
    services = recorded.services()
    assert services.get("test_mod.py::test_last") == {"teardown": {"postgres", "redis"}}, services
    rules = {(nodeid, phase, service): rule for nodeid, phase, service, rule in recorded.rows()}
    assert rules[("test_mod.py::test_last", "teardown", "redis")] == "runtime-shared"
    assert rules[("test_mod.py::test_last", "teardown", "postgres")] == "runtime"
    assert "test_mod.py::test_first" not in services


def test_a_test_that_talks_to_nothing_records_nothing(record, live):
    # Loopback traffic to undeclared ports and Unix sockets is not a service; the redis test
    # shows that this run does record.
    recorded = record(
        {
            "test_nothing.py": """
import socket
import threading

import redis

from addresses import OUT, REDIS_PORT


def test_plain():
    assert sorted("cab") == ["a", "b", "c"]


def echo_once(server):
    conn, _ = server.accept()
    with conn:
        conn.sendall(conn.recv(64))


def test_undeclared_loopback():
    with socket.create_server(("127.0.0.1", 0)) as server:
        thread = threading.Thread(target=echo_once, args=(server,))
        thread.start()
        with socket.create_connection(server.getsockname(), timeout=10) as sock:
            sock.sendall(b"hello")
            assert sock.recv(64) == b"hello"
        thread.join()
    path = str(OUT / "echo.sock")
    with socket.socket(socket.AF_UNIX) as server:
        server.bind(path)
        server.listen()
        thread = threading.Thread(target=echo_once, args=(server,))
        thread.start()
        with socket.socket(socket.AF_UNIX) as sock:
            sock.connect(path)
            sock.sendall(b"hello")
            assert sock.recv(64) == b"hello"
        thread.join()


def test_redis():
    client = redis.Redis(host="127.0.0.1", port=REDIS_PORT)
    assert client.ping()
    client.close()
"""
        },
        services={"redis": {"ports": [live.redis.port]}},
    )
    assert recorded.proc.returncode == 0, recorded.describe()
    assert recorded.services() == {"test_nothing.py::test_redis": {"call": {"redis"}}}
    assert recorded.outcomes() == {
        "test_nothing.py::test_plain": "passed",
        "test_nothing.py::test_undeclared_loopback": "passed",
        "test_nothing.py::test_redis": "passed",
    }


def test_a_service_declared_when_conftest_is_imported_is_seen(record, live):
    # As in docs/runtime.md: declare_service at module level of the conftest, before the
    # session starts; the port is in no pyproject.toml.
    recorded = record(
        {
            "conftest.py": """
import testmap.runtime
from addresses import REDIS_PORT

testmap.runtime.declare_service("redis", port=REDIS_PORT)
""",
            "test_declared.py": """
import redis

from addresses import REDIS_PORT


def test_redis():
    client = redis.Redis(host="127.0.0.1", port=REDIS_PORT)
    assert client.ping()
    client.close()


def test_plain():
    pass
""",
        },
    )
    assert recorded.proc.returncode == 0, recorded.describe()
    assert recorded.services() == {"test_declared.py::test_redis": {"call": {"redis"}}}


def test_a_declared_unix_socket_is_that_service(record, live):
    # Only the socket path is declared: the Unix socket connection is postgres, and TCP to the
    # same server (a port declared nowhere) is postgres too: its process names it.
    recorded = record(
        {
            "conftest.py": """
import os

import pytest

import testmap.runtime
from addresses import PG_PORT, PG_SOCKET_DIR


@pytest.fixture(scope="session", autouse=True)
def _declare():
    path = os.path.join(PG_SOCKET_DIR, ".s.PGSQL.%d" % PG_PORT)
    testmap.runtime.declare_service("postgres", unix_socket=path)
""",
            "test_socket.py": """
import psycopg2

from addresses import PG, PG_SOCKET_DIR


def query(**overrides):
    conn = psycopg2.connect(**dict(PG, **overrides))
    try:
        with conn.cursor() as cur:
            cur.execute("select 1")
            assert cur.fetchone() == (1,)
    finally:
        conn.close()


def test_unix():
    query(host=PG_SOCKET_DIR)


def test_tcp():
    query()
""",
        },
    )
    assert recorded.proc.returncode == 0, recorded.describe()
    assert recorded.services() == {
        "test_socket.py::test_unix": {"call": {"postgres"}},
        "test_socket.py::test_tcp": {"call": {"postgres"}},
    }


def test_declare_service_without_record_is_a_no_op(live, tmp_path, plain_env):
    # Plain pytest, not under `testmap record`: the conftest's declaration changes nothing.
    (tmp_path / "pyproject.toml").write_text("[tool.pytest.ini_options]\n")
    port = live.redis.port
    (tmp_path / "conftest.py").write_text(
        f"import testmap.runtime\n\ntestmap.runtime.declare_service('redis', port={port})\n"
    )
    (tmp_path / "test_plain.py").write_text(
        "import socket\n\n\n"
        "def test_redis():\n"
        f"    with socket.create_connection(('127.0.0.1', {port}), timeout=10) as sock:\n"
        "        sock.sendall(b'PING\\r\\n')\n"
        "        assert sock.recv(64).startswith(b'+PONG')\n"
    )
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", str(tmp_path)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        env=plain_env,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "1 passed" in proc.stdout


def test_python_fallback_still_sees_python_clients(record, live):
    # TESTMAP_FALLBACK=1: the Python-level socket patch instead of the shim; redis-py's
    # sockets are Python sockets, so they are still seen.
    recorded = record(
        {
            "test_fallback.py": """
import redis

from addresses import REDIS_PORT


def test_redis():
    client = redis.Redis(host="127.0.0.1", port=REDIS_PORT)
    client.set("tm-fallback", "x")
    assert client.get("tm-fallback") == b"x"
    client.close()


def test_plain():
    pass
"""
        },
        services={"redis": {"ports": [live.redis.port]}},
        env={"TESTMAP_FALLBACK": "1"},
    )
    assert recorded.proc.returncode == 0, recorded.describe()
    assert recorded.services() == {"test_fallback.py::test_redis": {"call": {"redis"}}}


def test_python_fallback_keeps_an_undeclared_server_by_its_address(record, live):
    # The fallback names no program: a local server on a port nobody declared is kept by
    # its address (external), never dropped; a server of the test process itself (a
    # thread) is no service, as with the shim.
    recorded = record(
        {
            "test_fallback.py": """
import socket
import threading

import redis

from addresses import REDIS_PORT


def test_undeclared_redis():
    assert redis.Redis(host="127.0.0.1", port=REDIS_PORT).ping()


def test_own_thread_server():
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen()
    threading.Thread(target=lambda: srv.accept()[0].close(), daemon=True).start()
    with socket.create_connection(srv.getsockname()) as c:
        c.sendall(b"x")
    srv.close()
"""
        },
        env={"TESTMAP_FALLBACK": "1"},
    )
    assert recorded.proc.returncode == 0, recorded.describe()
    assert recorded.services() == {
        "test_fallback.py::test_undeclared_redis": {"call": {"external"}}
    }, recorded.describe()
    assert f"127.0.0.1:{live.redis.port}" in recorded.proc.stderr  # the summary names it


def test_results_the_store_could_not_take_are_merged_by_the_next_record(record, live):
    # First run, of test_first.py only: the store cannot be opened (a non-empty directory in
    # its place). Second run, store path freed, of test_second.py only: both runs' tests are
    # in the store.
    files = {
        "test_first.py": """
import redis

from addresses import REDIS_PORT


def test_redis():
    client = redis.Redis(host="127.0.0.1", port=REDIS_PORT)
    assert client.ping()
    client.close()
""",
        "test_second.py": """
import psycopg2

from addresses import PG


def test_postgres():
    psycopg2.connect(**PG).close()
""",
    }
    services = {
        "postgres": {"ports": [live.postgres.port]},
        "redis": {"ports": [live.redis.port]},
    }
    obstacle = {".testmap/testmap.db/not-a-store": ""}
    blocked = record({**files, **obstacle}, services=services, paths=("test_first.py",))
    assert "1 passed" in blocked.output, blocked.describe()
    assert blocked.db.is_dir(), blocked.describe()
    shutil.rmtree(blocked.db)
    second = record(files, services=services, paths=("test_second.py",))
    assert second.proc.returncode == 0, second.describe()
    assert second.services() == {
        "test_first.py::test_redis": {"call": {"redis"}},
        "test_second.py::test_postgres": {"call": {"postgres"}},
    }, second.describe()
