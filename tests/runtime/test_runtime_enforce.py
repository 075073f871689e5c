"""`testmap record --enforce`: a connection to a service outside the test's static tier is
refused and fails the test with a message naming the test, the service, its address and the
tier; without --enforce the same suite passes."""

from __future__ import annotations

import errno
import json
import subprocess

import pytest

CONFTEST = """
import psycopg2
import pytest

from addresses import PG


@pytest.fixture
def pg_conn():
    conn = psycopg2.connect(**PG)
    yield conn
    conn.close()
"""

# test_pg_then_redis is postgres_only (the pg_conn fixture) but also talks to redis; a
# refused connect leaves its errno in OUT/errno. test_dynamic is in the unknown tier (a
# dynamic call): it may connect to anything.
TESTS = """
import socket

from addresses import OUT, REDIS


def ping_redis():
    try:
        sock = socket.create_connection(REDIS, timeout=10)
    except OSError as exc:
        (OUT / "errno").write_text(str(exc.errno))
        raise
    with sock:
        sock.sendall(b"PING\\r\\n")
        return sock.recv(64)


def select_one(conn):
    with conn.cursor() as cur:
        cur.execute("select 1")
        return cur.fetchone()


def pick_backend():
    return "redis"


def test_pg_only(pg_conn):
    assert select_one(pg_conn) == (1,)


def test_pg_then_redis(pg_conn):
    assert select_one(pg_conn) == (1,)
    assert ping_redis().startswith(b"+PONG")


def test_dynamic():
    assert pick_backend() == "redis"
    assert ping_redis().startswith(b"+PONG")
"""

TOML = """
[tool.testmap.dynamic]
calls = ["pick_backend"]
"""


@pytest.fixture
def run_suite(record, live):
    def run(enforce: bool):
        return record(
            {"conftest.py": CONFTEST, "test_enforce.py": TESTS},
            services={
                "postgres": {"ports": [live.postgres.port], "fixtures": ["pg_conn"]},
                "redis": {"ports": [live.redis.port]},
            },
            toml=TOML,
            enforce=enforce,
        )

    return run


def test_enforce_refuses_a_service_outside_the_tier(run_suite, live):
    recorded = run_suite(enforce=True)
    assert recorded.proc.returncode != 0, recorded.describe()
    assert recorded.outcomes() == {
        "test_enforce.py::test_pg_only": "passed",
        "test_enforce.py::test_pg_then_redis": "failed",
        "test_enforce.py::test_dynamic": "passed",
    }, recorded.describe()
    assert (recorded.out / "errno").read_text() == str(errno.ECONNREFUSED)
    pieces = (
        "test_enforce.py::test_pg_then_redis",
        "redis",
        f"127.0.0.1:{live.redis.port}",
        "postgres_only",
    )
    lines = [line for line in recorded.output.splitlines() if all(p in line for p in pieces)]
    assert lines, f"no line with all of {pieces}\n{recorded.describe()}"


def test_without_enforce_the_same_suite_passes(run_suite):
    recorded = run_suite(enforce=False)
    assert recorded.proc.returncode == 0, recorded.describe()
    assert not (recorded.out / "errno").exists()
    assert set(recorded.outcomes().values()) == {"passed"}
    services = recorded.services()
    assert services["test_enforce.py::test_pg_then_redis"]["call"] == {"postgres", "redis"}
    assert services["test_enforce.py::test_dynamic"] == {"call": {"redis"}}


# snuba needs redis: a test marked snuba may talk to redis, one marked memcached may not.
REQUIRES_TESTS = """
import pytest

from test_enforce import ping_redis


@pytest.mark.snuba
def test_snuba_reaches_redis():
    assert ping_redis().startswith(b"+PONG")


@pytest.mark.memcached
def test_memcached_reaches_redis():
    assert ping_redis().startswith(b"+PONG")
"""


def test_a_required_service_is_part_of_the_tier_and_allowed(record, live, testmap_bin):
    recorded = record(
        {"conftest.py": CONFTEST, "test_enforce.py": TESTS, "test_requires.py": REQUIRES_TESTS},
        services={
            "postgres": {"ports": [live.postgres.port], "fixtures": ["pg_conn"]},
            "redis": {"ports": [live.redis.port]},
            "memcached": {"markers": ["memcached"]},
            "snuba": {"markers": ["snuba"], "requires": ["redis"]},
        },
        toml=TOML,
        enforce=True,
        paths=("test_requires.py",),
    )
    assert recorded.outcomes() == {
        "test_requires.py::test_snuba_reaches_redis": "passed",
        "test_requires.py::test_memcached_reaches_redis": "failed",
    }, recorded.describe()
    out = subprocess.run(
        [testmap_bin, "classify", "--json", "--no-store", str(recorded.root)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    tests = {t["id"]: t for t in json.loads(out)["tests"]}
    snuba = tests["test_requires.py::test_snuba_reaches_redis"]
    assert snuba["services"] == ["redis", "snuba"]
    assert snuba["tier"] == "redis_snuba"
    assert any(
        r["rule"] == "requires" and "snuba requires redis" in r["detail"] for r in snuba["reasons"]
    ), snuba["reasons"]
