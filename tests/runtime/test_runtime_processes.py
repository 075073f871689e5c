"""Traffic from other processes: forked children, exec'd programs, xdist workers, and a run
that dies half-way."""

from __future__ import annotations


def test_a_forked_child_counts_for_the_running_test(record, live):
    # Only the child talks to redis; the parent just waits for it.
    recorded = record(
        {
            "test_fork.py": """
import os


def test_fork():
    pid = os.fork()
    if pid == 0:
        code = 1
        try:
            import redis

            from addresses import REDIS_PORT

            client = redis.Redis(host="127.0.0.1", port=REDIS_PORT)
            client.set("tm-fork", "child")
            code = 0 if client.get("tm-fork") == b"child" else 2
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    assert os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0


def test_plain():
    assert sum(range(10)) == 45
"""
        },
        services={"redis": {"ports": [live.redis.port]}},
    )
    assert recorded.proc.returncode == 0, recorded.describe()
    assert recorded.services() == {"test_fork.py::test_fork": {"call": {"redis"}}}
    assert recorded.outcomes() == {
        "test_fork.py::test_fork": "passed",
        "test_fork.py::test_plain": "passed",
    }


def test_an_execd_psql_counts_for_the_running_test(record, live):
    recorded = record(
        {
            "test_psql.py": """
import subprocess

from addresses import PG, PSQL


def test_psql():
    done = subprocess.run(
        [PSQL, "-h", PG["host"], "-p", str(PG["port"]), "-U", PG["user"], "-d", PG["dbname"],
         "-X", "-A", "-t", "-c", "select 6 * 7"],
        capture_output=True, text=True, timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "42"


def test_plain():
    assert sum(range(10)) == 45
"""
        },
        services={"postgres": {"ports": [live.postgres.port]}},
    )
    assert recorded.proc.returncode == 0, recorded.describe()
    assert recorded.services() == {"test_psql.py::test_psql": {"call": {"postgres"}}}
    assert recorded.outcomes() == {
        "test_psql.py::test_psql": "passed",
        "test_psql.py::test_plain": "passed",
    }


XDIST_TESTS = """
import os
import time

import psycopg2
import redis

from addresses import OUT, PG, REDIS_PORT


def ran(name):
    # which worker ran the test, for the outer assertions
    (OUT / name).write_text(os.environ.get("PYTEST_XDIST_WORKER", "none"))
    time.sleep(0.2)  # long enough that one worker cannot take every test


def use_redis(name):
    client = redis.Redis(host="127.0.0.1", port=REDIS_PORT)
    try:
        assert client.incr("tm-xdist-" + name) >= 1
    finally:
        client.close()


def use_postgres():
    conn = psycopg2.connect(**PG)
    try:
        with conn.cursor() as cur:
            cur.execute("select 1")
            assert cur.fetchone() == (1,)
    finally:
        conn.close()
"""


def test_xdist_workers_all_record_their_tests(record, live):
    expected = {}
    body = XDIST_TESTS
    for i in range(8):
        if i % 2:
            service, use = "postgres", "use_postgres()"
        else:
            service, use = "redis", f"use_redis('{i}')"
        body += f"\n\ndef test_{i}():\n    ran('test_{i}')\n    {use}\n"
        expected[f"test_x.py::test_{i}"] = {"call": {service}}
    recorded = record(
        {"test_x.py": body},
        services={
            "postgres": {"ports": [live.postgres.port]},
            "redis": {"ports": [live.redis.port]},
        },
        args=("-n", "2"),
    )
    assert recorded.proc.returncode == 0, recorded.describe()
    workers = {path.name: path.read_text() for path in recorded.out.iterdir()}
    assert len(workers) == 8, recorded.describe()
    assert set(workers.values()) == {"gw0", "gw1"}, "each worker must have run some tests"
    assert recorded.services() == expected
    assert recorded.outcomes() == {nodeid: "passed" for nodeid in expected}


def test_tests_before_a_crash_are_still_recorded(record, live):
    recorded = record(
        {
            "test_crash.py": """
import os

import psycopg2
import redis

from addresses import PG, REDIS_PORT


def test_1_redis():
    client = redis.Redis(host="127.0.0.1", port=REDIS_PORT)
    assert client.ping()
    client.close()


def test_2_postgres():
    conn = psycopg2.connect(**PG)
    conn.close()


def test_3_dies():
    os._exit(1)


def test_4_never_runs():
    client = redis.Redis(host="127.0.0.1", port=REDIS_PORT)
    assert client.ping()
"""
        },
        services={
            "postgres": {"ports": [live.postgres.port]},
            "redis": {"ports": [live.redis.port]},
        },
    )
    assert recorded.proc.returncode != 0, recorded.describe()
    services = recorded.services()
    assert services.get("test_crash.py::test_1_redis") == {"call": {"redis"}}, recorded.describe()
    assert services.get("test_crash.py::test_2_postgres") == {"call": {"postgres"}}
    assert "test_crash.py::test_4_never_runs" not in services
    outcomes = recorded.outcomes()
    assert outcomes["test_crash.py::test_1_redis"] == "passed"
    assert outcomes["test_crash.py::test_2_postgres"] == "passed"
    assert "test_crash.py::test_4_never_runs" not in outcomes
