"""`testmap init --record` on a project with no config whose names say nothing: the servers
its fixtures and tests reach at run time become rules a person would write, and what it
cannot name becomes a question (docs/init.md)."""

from __future__ import annotations

import json
import re
import subprocess

import tomllib

FILES = {
    "tests/conftest.py": """
import socket
import subprocess
import sys
import time

import psycopg2
import pytest
import redis

from addresses import PG, REDIS_PORT


def make_client():
    client = redis.Redis(port=REDIS_PORT)
    client.ping()
    return client


@pytest.fixture
def kv():
    return make_client()


@pytest.fixture
def other_kv():
    return make_client()


@pytest.fixture(scope="session")
def handle():
    conn = psycopg2.connect(**PG)
    yield conn
    conn.close()


SERVER = '''
import socket, sys
s = socket.socket()
s.bind(("127.0.0.1", 0))
s.listen()
print(s.getsockname()[1], flush=True)
while True:
    c, _ = s.accept()
    c.sendall(b"hi")
    c.close()
'''


@pytest.fixture(scope="session")
def own_port():
    proc = subprocess.Popen([sys.executable, "-c", SERVER], stdout=subprocess.PIPE, text=True)
    port = int(proc.stdout.readline())
    yield port
    proc.kill()
    proc.wait()
""",
    "tests/test_app.py": """
import socket


def test_uses_kv(kv):
    kv.set("a", "1")


def test_uses_kv_again(kv):
    kv.set("b", "1")


def test_uses_kv_once_more(kv):
    kv.set("c", "1")


def test_uses_handle(handle):
    with handle.cursor() as cur:
        cur.execute("select 1")


def test_plain():
    assert 1 + 1 == 2


def test_own_server(own_port):
    with socket.create_connection(("127.0.0.1", own_port)) as s:
        assert s.recv(2) == b"hi"
""",
    "tests/test_cache.py": """
import pylibmc

from addresses import MEMCACHED


def test_set():
    pylibmc.Client([MEMCACHED]).set("k", "v")


def test_get():
    pylibmc.Client([MEMCACHED]).get("k")
""",
    "tests/__init__.py": "",
    "tests/base.py": """
import unittest

import psycopg2

from addresses import PG


class Backed(unittest.TestCase):
    def setUp(self):
        self.conn = psycopg2.connect(**PG)

    def tearDown(self):
        self.conn.close()
""",
    "tests/test_units.py": """
from tests.base import Backed


class TestOrders(Backed):
    def test_one(self):
        pass

    def test_two(self):
        pass


class TestUsers(Backed):
    def test_three(self):
        pass
""",
    "tests/test_not_recorded.py": """
from tests.base import Backed


class TestLater(Backed):
    def test_four(self):
        pass


def test_later(kv):
    kv.get("a")


def test_other(other_kv):
    other_kv.get("a")
""",
}


def test_init_record_turns_what_a_run_used_into_rules(record, testmap_bin: str) -> None:
    before = "[tool.pytest.ini_options]\n\n"
    done = record(
        FILES,
        command=("init", "--record"),
        paths=("tests/test_app.py", "tests/test_cache.py", "tests/test_units.py"),
    )
    assert done.proc.returncode == 0, done.describe()
    text = (done.root / "pyproject.toml").read_text()
    assert text.startswith(before), text  # what was there is kept, byte for byte
    tool = tomllib.loads(text)["tool"]["testmap"]["services"]
    # The fixtures whose own code reached each server, whatever their names say.
    assert tool["redis"]["fixtures"] == ["kv"], text
    assert tool["postgres"]["fixtures"] == ["handle"], text
    # A base class whose methods ran only in tests that used postgres: the classes that
    # inherit it, recorded or not.
    assert tool["postgres"]["base-classes"] == ["tests.base.Backed"], text
    assert "paths" not in tool["postgres"], text  # the class says it; no file list
    # The helper those fixtures call ran only in tests that used redis: a calls rule, which
    # reaches the fixture the run did not include.
    assert tool["redis"]["calls"] == ["make_client"], text
    # Tests that use memcached in their own code, all of a file's: the file is the rule.
    assert tool["memcached"]["paths"] == ["tests/test_cache.py"], text
    # A server of the tests' own: a question with its address, not a guess.
    questions = text[text.index("# What testmap init could not decide:") :]
    port = re.search(r"reached 127\.0\.0\.1:(\d+)", questions)
    assert port, questions
    assert "test_own_server" in questions

    # From the source alone, with what init wrote, each test gets what the run saw; the
    # tests the run did not include too, through their fixtures.
    proc = subprocess.run(
        [testmap_bin, "classify", "--no-store", "--json"],
        cwd=done.root,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    services = {t["id"]: t["services"] for t in json.loads(proc.stdout)["tests"]}
    assert services == {
        "tests/test_app.py::test_uses_kv": ["redis"],
        "tests/test_app.py::test_uses_kv_again": ["redis"],
        "tests/test_app.py::test_uses_kv_once_more": ["redis"],
        "tests/test_app.py::test_uses_handle": ["postgres"],
        "tests/test_app.py::test_plain": [],
        "tests/test_app.py::test_own_server": [],
        "tests/test_cache.py::test_set": ["memcached"],
        "tests/test_cache.py::test_get": ["memcached"],
        "tests/test_not_recorded.py::test_later": ["redis"],
        "tests/test_not_recorded.py::test_other": ["redis"],
        "tests/test_units.py::TestOrders::test_one": ["postgres"],
        "tests/test_units.py::TestOrders::test_two": ["postgres"],
        "tests/test_units.py::TestUsers::test_three": ["postgres"],
        "tests/test_not_recorded.py::TestLater::test_four": ["postgres"],
    }

    # The store says which fixture used each service: --explain shows it.
    proc = subprocess.run(
        [testmap_bin, "classify", "--explain", "tests/test_app.py::test_uses_handle"],
        cwd=done.root,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert "by the shared fixture handle" in proc.stdout, proc.stdout + proc.stderr


def test_init_record_needs_a_command_and_init_refuses_one_without_it(
    testmap_bin: str, tmp_path
) -> None:
    (tmp_path / "pyproject.toml").write_text("[tool.pytest.ini_options]\n")
    for argv, says in (
        (["init", "--record"], "needs the pytest command after --"),
        (["init", "--", "pytest"], "is for --record"),
    ):
        proc = subprocess.run(
            [testmap_bin, *argv], cwd=tmp_path, capture_output=True, text=True, timeout=60
        )
        assert proc.returncode == 2, proc.stderr
        assert says in proc.stderr
    assert (tmp_path / "pyproject.toml").read_text() == "[tool.pytest.ini_options]\n"
