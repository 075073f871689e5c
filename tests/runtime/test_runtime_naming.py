"""Servers on ports nobody declared name themselves: the shim finds the process listening on a
local address in /proc and names it by its program (docs/runtime.md, "Servers that name
themselves"). The projects here declare no port of the session's servers, or none at all."""

from __future__ import annotations

import errno
import sqlite3
from pathlib import Path

CLIENTS = """
import psycopg2
import pylibmc
import redis

from addresses import MEMCACHED, PG, PG_SOCKET_DIR, REDIS_PORT


def select_one(**overrides):
    conn = psycopg2.connect(**dict(PG, **overrides))
    try:
        with conn.cursor() as cur:
            cur.execute("select 1")
            return cur.fetchone()
    finally:
        conn.close()


def test_postgres_over_tcp():
    assert select_one() == (1,)


def test_postgres_over_its_unix_socket():
    assert select_one(host=PG_SOCKET_DIR) == (1,)


def test_redis():
    assert redis.Redis(port=REDIS_PORT).ping()


def test_memcached_through_libmemcached():
    client = pylibmc.Client([MEMCACHED])
    client.set("k", "v")
    assert client.get("k") == "v"
"""

# Servers the tests start themselves: memcached from a fixture, redis in the test, a Python
# server of the tests' own in a child process (no program names it), and one in a thread of
# the test process (no service at all).
OWN_SERVERS = """
import os
import socket
import subprocess
import sys
import threading
import time

import pylibmc
import pytest
import redis

from addresses import OUT


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def started(argv, port):
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(200):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return proc
        except OSError:
            time.sleep(0.05)
    proc.kill()
    raise RuntimeError(f"{argv[0]} did not start")


@pytest.fixture
def memcached_port():
    port = free_port()
    argv = ["memcached", "-p", str(port), "-l", "127.0.0.1", "-U", "0"]
    if os.geteuid() == 0:
        argv += ["-u", "nobody"]
    proc = started(argv, port)
    yield port
    proc.kill()
    proc.wait()


def test_memcached_from_a_fixture(memcached_port):
    client = pylibmc.Client([f"127.0.0.1:{memcached_port}"])
    client.set("k", "v")
    assert client.get("k") == "v"


def test_redis_started_by_the_test(tmp_path):
    port = free_port()
    proc = started(["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                    "--dir", str(tmp_path)], port)
    try:
        assert redis.Redis(port=port).ping()
    finally:
        proc.kill()
        proc.wait()


def test_a_server_of_our_own_in_a_child():
    port = free_port()
    (OUT / "child_port").write_text(str(port))
    proc = started([sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1"], port)
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
            s.sendall(b"GET / HTTP/1.0\\r\\n\\r\\n")
            assert s.recv(12).startswith(b"HTTP/1.0")
    finally:
        proc.kill()
        proc.wait()


def test_a_server_in_a_thread_is_no_service():
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    threading.Thread(target=lambda: server.accept()[0].recv(1), daemon=True).start()
    with socket.create_connection(server.getsockname(), timeout=10) as s:
        s.sendall(b"x")
"""


def external_addresses(db: Path) -> dict[str, set[str]]:
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        rows = conn.execute(
            "SELECT t.nodeid, u.detail FROM service_use u JOIN test t ON t.id = u.test_id "
            "WHERE u.source = 'runtime' AND u.service = 'external'"
        ).fetchall()
    finally:
        conn.close()
    found: dict[str, set[str]] = {}
    for nodeid, detail in rows:
        found.setdefault(nodeid, set()).add(detail)
    return found


def test_the_sessions_servers_name_themselves_with_no_port_declared(record, live):
    recorded = record({"test_clients.py": CLIENTS})
    assert recorded.proc.returncode == 0, recorded.describe()
    assert recorded.services() == {
        "test_clients.py::test_postgres_over_tcp": {"call": {"postgres"}},
        "test_clients.py::test_postgres_over_its_unix_socket": {"call": {"postgres"}},
        "test_clients.py::test_redis": {"call": {"redis"}},
        "test_clients.py::test_memcached_through_libmemcached": {"call": {"memcached"}},
    }, recorded.describe()


def test_servers_the_tests_start_are_named_and_an_unnamed_one_keeps_its_address(record, live):
    recorded = record({"test_own.py": OWN_SERVERS})
    assert recorded.proc.returncode == 0, recorded.describe()
    services = recorded.services()
    assert services["test_own.py::test_memcached_from_a_fixture"]["call"] == {"memcached"}
    assert services["test_own.py::test_redis_started_by_the_test"]["call"] == {"redis"}
    assert services["test_own.py::test_a_server_of_our_own_in_a_child"]["call"] == {"external"}
    assert "test_own.py::test_a_server_in_a_thread_is_no_service" not in services
    port = (recorded.out / "child_port").read_text()
    # By its address, with what runs there, so that a person can name it.
    [address] = external_addresses(recorded.db)["test_own.py::test_a_server_of_our_own_in_a_child"]
    assert address == f"127.0.0.1:{port} (python -m http.server {port} --bind 127.0.0.1)"
    assert set(external_addresses(recorded.db)) == {
        "test_own.py::test_a_server_of_our_own_in_a_child"
    }
    assert address in recorded.proc.stderr  # the record summary names it


def test_a_declared_port_wins_over_the_program(record, live):
    recorded = record(
        {"test_clients.py": CLIENTS},
        services={"cache": {"ports": [live.redis.port]}},
        args=("-k", "redis"),
    )
    assert recorded.proc.returncode == 0, recorded.describe()
    assert recorded.services() == {"test_clients.py::test_redis": {"call": {"cache"}}}


def test_a_program_of_the_config_names_a_service(record, live):
    recorded = record(
        {"test_own.py": OWN_SERVERS},
        services={"docs": {"processes": ["python:http.server"]}},
        args=("-k", "child"),
    )
    assert recorded.proc.returncode == 0, recorded.describe()
    assert recorded.services() == {
        "test_own.py::test_a_server_of_our_own_in_a_child": {"call": {"docs"}}
    }


def test_enforcement_refuses_a_server_named_by_its_program(record, live):
    tests = """
import socket

import psycopg2
import pytest

from addresses import OUT, PG, REDIS


@pytest.fixture
def pg_conn():
    conn = psycopg2.connect(**PG)
    yield conn
    conn.close()


def test_pg_then_redis(pg_conn):
    try:
        socket.create_connection(REDIS, timeout=10).close()
    except OSError as exc:
        (OUT / "errno").write_text(str(exc.errno))
        raise
"""
    recorded = record(
        {"test_enforce.py": tests},
        toml="[tool.testmap.services.postgres]\nfixtures = ['pg_conn']\n",
        enforce=True,
    )
    assert recorded.proc.returncode != 0, recorded.describe()
    assert (recorded.out / "errno").read_text() == str(errno.ECONNREFUSED)
    pieces = ("test_enforce.py::test_pg_then_redis", "redis", f"127.0.0.1:{live.redis.port}")
    assert any(all(p in line for p in pieces) for line in recorded.output.splitlines()), (
        recorded.describe()
    )


def test_two_services_on_one_port_are_told_apart_by_their_hosts(record, live, tmp_path):
    # Two Redis servers on the same port, on 127.0.0.1 and 127.0.0.2: one service is
    # declared by its host, the other by the port alone.
    import socket
    import subprocess
    import time

    with socket.socket() as s:
        s.bind(("127.0.0.2", 0))
        port = s.getsockname()[1]
    servers = []
    for host in ("127.0.0.1", "127.0.0.2"):
        d = tmp_path / host
        d.mkdir()
        argv = ["redis-server", "--port", str(port), "--bind", host, "--save", "", "--dir", str(d)]
        servers.append(subprocess.Popen(argv, stdout=subprocess.DEVNULL))
    try:
        for host in ("127.0.0.1", "127.0.0.2"):
            for _ in range(200):
                try:
                    socket.create_connection((host, port), timeout=1).close()
                    break
                except OSError:
                    time.sleep(0.05)
        tests = f"""
import redis


def test_timescale_host():
    assert redis.Redis(host="127.0.0.2", port={port}).ping()


def test_default_host():
    assert redis.Redis(host="127.0.0.1", port={port}).ping()
"""
        recorded = record(
            {"test_hosts.py": tests},
            services={
                "metrics": {"hosts": ["127.0.0.2"], "ports": [port]},
                "cache": {"ports": [port]},
            },
        )
    finally:
        for p in servers:
            p.kill()
            p.wait()
    assert recorded.proc.returncode == 0, recorded.describe()
    assert recorded.services() == {
        "test_hosts.py::test_timescale_host": {"call": {"metrics"}},
        "test_hosts.py::test_default_host": {"call": {"cache"}},
    }


def test_a_server_whose_process_cannot_be_seen_is_kept_by_its_address(record, live):
    # In a pid namespace of its own with its own /proc (a test container beside a server
    # container), the listening socket is there but its process is not: the connection is
    # recorded by its address, and nothing fails.
    import shutil

    unshare = shutil.which("unshare")
    assert unshare, "unshare (util-linux) is needed for this test"
    tests = """
import redis

from addresses import REDIS_PORT


def test_redis():
    assert redis.Redis(port=REDIS_PORT).ping()
"""
    recorded = record(
        {"test_hidden.py": tests}, wrap=[unshare, "--pid", "--fork", "--mount-proc", "--"]
    )
    assert recorded.proc.returncode == 0, recorded.describe()
    assert recorded.services() == {"test_hidden.py::test_redis": {"call": {"external"}}}
    assert external_addresses(recorded.db) == {
        "test_hidden.py::test_redis": {f"127.0.0.1:{live.redis.port}"}
    }


def test_without_a_readable_proc_a_server_is_recorded_by_its_address(record, live, shim):
    # A container without /proc (or one the tests may not read): the shim cannot find who
    # listens, so the connection is kept by its address, and the test still passes.
    no_proc = ["unshare", "--mount", "--propagation", "private", "--", "sh", "-c"]
    no_proc += ['mount -t tmpfs none /proc && exec "$@"', "sh"]
    recorded = record(
        {"test_clients.py": CLIENTS},
        args=("-k", "redis"),
        wrap=no_proc,
        env={"TESTMAP_PRELOAD": str(shim)},
    )
    assert recorded.proc.returncode == 0, recorded.describe()
    assert recorded.services() == {"test_clients.py::test_redis": {"call": {"external"}}}, (
        recorded.describe()
    )
    [address] = external_addresses(recorded.db)["test_clients.py::test_redis"]
    assert address == f"127.0.0.1:{live.redis.port}"
    # A declared port needs no /proc.
    recorded = record(
        {"test_clients.py": CLIENTS},
        services={"redis": {"ports": [live.redis.port]}},
        args=("-k", "redis"),
        wrap=no_proc,
        env={"TESTMAP_PRELOAD": str(shim)},
    )
    assert recorded.services() == {"test_clients.py::test_redis": {"call": {"redis"}}}
