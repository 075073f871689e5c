"""What `testmap record` does with its results when things go wrong: nothing is lost.

A locked store, a pytest killed half-way, a run that records nothing. The recorded
project talks to a small TCP echo server of this test process, declared as a service.
"""

from __future__ import annotations

import socket
import socketserver
import sqlite3
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

TIMEOUT = 120


class _Echo(socketserver.BaseRequestHandler):
    def handle(self) -> None:
        while data := self.request.recv(1024):
            self.request.sendall(data)


@pytest.fixture(scope="module")
def echo_port() -> Iterator[int]:
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), _Echo)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1]
    server.shutdown()
    server.server_close()


def make_project(root: Path, port: int, tests: str) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "pyproject.toml").write_text(f"[tool.testmap.services.echo]\nports = [{port}]\n")
    (root / "test_echo.py").write_text(
        "import os, socket\n\n"
        f"PORT = {port}\n\n\n"
        "def echo():\n"
        "    with socket.create_connection(('127.0.0.1', PORT)) as s:\n"
        "        s.sendall(b'hi')\n"
        "        assert s.recv(2) == b'hi'\n\n\n" + tests
    )
    return root


def record(testmap_bin: str, root: Path) -> subprocess.CompletedProcess:
    cmd = [testmap_bin, "record", "--", sys.executable, "-m", "pytest", "-q"]
    cmd += ["-p", "no:cacheprovider", str(root)]
    return subprocess.run(cmd, cwd=root, capture_output=True, text=True, timeout=TIMEOUT)


def recorded(root: Path) -> dict[str, set[str]]:
    db = sqlite3.connect(root / ".testmap" / "testmap.db")
    try:
        out: dict[str, set[str]] = {}
        for (nodeid,) in db.execute(
            "SELECT DISTINCT t.nodeid FROM duration d JOIN test t ON t.id = d.test_id"
        ):
            out[nodeid] = set()
        rows = db.execute(
            "SELECT t.nodeid, u.service FROM service_use u JOIN test t ON t.id = u.test_id "
            "WHERE u.source = 'runtime'"
        )
        for nodeid, service in rows:
            out.setdefault(nodeid, set()).add(service)
        return out
    finally:
        db.close()


TWO_TESTS = "def test_uses_echo():\n    echo()\n\n\ndef test_quiet():\n    pass\n"


def test_a_locked_store_keeps_the_results_for_the_next_run(
    testmap_bin: str, echo_port: int, tmp_path: Path
) -> None:
    root = make_project(tmp_path / "p", echo_port, TWO_TESTS)
    assert record(testmap_bin, root).returncode == 0  # creates the store
    db = sqlite3.connect(root / ".testmap" / "testmap.db", timeout=0, isolation_level=None)
    db.execute("BEGIN EXCLUSIVE")
    try:
        proc = record(testmap_bin, root)
    finally:
        db.execute("ROLLBACK")
        db.close()
    assert proc.returncode == 1, proc.stderr  # the tests passed; the store did not take it
    assert "locked" in proc.stderr
    pending = list((root / ".testmap" / "pending").iterdir())
    assert len(pending) == 1
    assert f"kept in {pending[0]}" in proc.stderr
    # The next run merges what the locked one kept, then its own results.
    (root / "test_echo.py").write_text(
        (root / "test_echo.py").read_text() + "\n\ndef test_new():\n    echo()\n"
    )
    again = record(testmap_bin, root)
    assert again.returncode == 0, again.stderr
    assert not any((root / ".testmap" / "pending").iterdir())
    db = sqlite3.connect(root / ".testmap" / "testmap.db")
    runs = db.execute("SELECT count(*) FROM run WHERE kind = 'record'").fetchone()[0]
    db.close()
    assert runs == 3
    assert recorded(root) == {
        "test_echo.py::test_uses_echo": {"echo"},
        "test_echo.py::test_quiet": set(),
        "test_echo.py::test_new": {"echo"},
    }


def test_a_run_killed_half_way_keeps_the_tests_before(
    testmap_bin: str, echo_port: int, tmp_path: Path
) -> None:
    tests = (
        "def test_first():\n    echo()\n\n\n"
        "def test_second():\n    pass\n\n\n"
        "def test_dies():\n    os._exit(3)\n\n\n"
        "def test_never():\n    echo()\n"
    )
    root = make_project(tmp_path / "p", echo_port, tests)
    proc = record(testmap_bin, root)
    assert proc.returncode == 3
    assert recorded(root) == {
        "test_echo.py::test_first": {"echo"},
        "test_echo.py::test_second": set(),
    }


def test_a_run_that_records_nothing_says_so(
    testmap_bin: str, echo_port: int, tmp_path: Path
) -> None:
    root = make_project(tmp_path / "p", echo_port, TWO_TESTS)
    cmd = [testmap_bin, "record", "--", sys.executable, "-m", "pytest", "-q", "-p", "no:testmap"]
    proc = subprocess.run(
        [*cmd, str(root)], cwd=root, capture_output=True, text=True, timeout=TIMEOUT
    )
    assert proc.returncode == 1
    assert "recorded nothing" in proc.stderr


def test_shim_environment_that_is_missing_or_garbage_changes_nothing(
    testmap_bin: str, echo_port: int, tmp_path: Path
) -> None:
    shim = Path(sys.prefix) / "lib" / "testmap" / "libtestmap_preload.so"
    assert shim.is_file()
    garbage = tmp_path / "garbage.region"
    garbage.write_bytes(b"\xff" * 4096)
    code = (
        "import socket, sys\n"
        f"s = socket.create_connection(('127.0.0.1', {echo_port}))\n"
        "s.sendall(b'ok'); print(s.recv(2).decode())\n"
        "try:\n"
        "    socket.create_connection(('127.0.0.1', 1))\n"
        "except ConnectionRefusedError as e:\n"
        "    print(e.errno)\n"
    )
    for shm in (None, str(tmp_path / "missing.region"), str(garbage), ""):
        env = {"LD_PRELOAD": str(shim), "PATH": "/usr/bin:/bin"}
        if shm is not None:
            env["TESTMAP_SHM"] = shm
        proc = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
        assert proc.returncode == 0, proc.stderr
        assert proc.stdout.split() == ["ok", "111"], shm
    assert garbage.read_bytes() == b"\xff" * 4096


def test_connect_is_refused_only_for_services_outside_the_tier(
    testmap_bin: str, tmp_path: Path
) -> None:
    # Under enforcement, a refused connection looks like a closed port to the program.
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        root = make_project(
            tmp_path / "p",
            port,
            "import pytest\n\n\n"
            "def test_refused():\n"
            "    with pytest.raises(ConnectionRefusedError):\n"
            "        socket.create_connection(('127.0.0.1', PORT))\n",
        )
        cmd = [testmap_bin, "record", "--enforce", "--", sys.executable, "-m", "pytest", "-q"]
        proc = subprocess.run(
            [*cmd, "-p", "no:cacheprovider", str(root)],
            cwd=root,
            capture_output=True,
            text=True,
            timeout=TIMEOUT,
        )
    assert proc.returncode == 1, proc.stdout
    assert (
        f"testmap: test_echo.py::test_refused connected to echo at 127.0.0.1:{port}" in proc.stdout
    )


def _own_address() -> str:
    """This machine's address on its default route: not loopback, yet reachable here."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.connect(("192.0.2.1", 9))  # a UDP connect sends nothing
        return s.getsockname()[0]


def test_traffic_to_an_undeclared_address_off_loopback_is_external(
    testmap_bin: str, tmp_path: Path
) -> None:
    host = _own_address()
    assert not host.startswith("127."), "the machine needs a non-loopback address"
    server = socketserver.ThreadingTCPServer((host, 0), _Echo)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        port = server.server_address[1]
        root = make_project(
            tmp_path / "p",
            1,  # the declared service listens elsewhere
            "def test_outside():\n"
            f"    with socket.create_connection(({host!r}, {port})) as s:\n"
            "        s.sendall(b'hi')\n"
            "        assert s.recv(2) == b'hi'\n",
        )
        proc = record(testmap_bin, root)
    finally:
        server.shutdown()
        server.server_close()
    assert proc.returncode == 0, proc.stdout + proc.stderr
    db = sqlite3.connect(root / ".testmap" / "testmap.db")
    rows = db.execute(
        "SELECT service, phase, detail FROM service_use WHERE source = 'runtime'"
    ).fetchall()
    db.close()
    # The machine's own address: the listener (this pytest process) is found, not named.
    [(service, phase, detail)] = rows
    assert (service, phase) == ("external", "call")
    assert detail.startswith(f"{host}:{port} (python"), detail


def test_pytest_testmap_enforce_alone_preloads_the_shim_and_refuses(tmp_path: Path) -> None:
    # No `testmap record`: the plugin starts pytest again with the shim preloaded.
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        root = make_project(tmp_path / "p", port, "def test_talks():\n    echo_connect()\n")
        (root / "test_echo.py").write_text(
            (root / "test_echo.py").read_text()
            + "\n\ndef echo_connect():\n    socket.create_connection(('127.0.0.1', PORT)).close()\n"
        )
        cmd = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"]
        plain = subprocess.run(cmd, cwd=root, capture_output=True, text=True, timeout=TIMEOUT)
        enforced = subprocess.run(
            [*cmd, "--testmap-enforce"], cwd=root, capture_output=True, text=True, timeout=TIMEOUT
        )
    assert plain.returncode == 0, plain.stdout
    assert enforced.returncode == 1, enforced.stdout
    assert (
        f"testmap: test_echo.py::test_talks connected to echo at 127.0.0.1:{port}, "
        "which its tier no_services does not include" in enforced.stdout
    )


def test_a_test_only_a_recorded_run_knows_survives_classify(
    testmap_bin: str, echo_port: int, tmp_path: Path
) -> None:
    # Made at import time: the source shows no such test, the run does.
    root = make_project(
        tmp_path / "p",
        echo_port,
        "for _i in range(2):\n    globals()[f'test_made_{_i}'] = lambda: echo()\n",
    )
    assert record(testmap_bin, root).returncode == 0
    subprocess.run([testmap_bin, "classify", str(root)], check=True, capture_output=True)
    assert recorded(root) == {
        "test_echo.py::test_made_0": {"echo"},
        "test_echo.py::test_made_1": {"echo"},
    }
    # Once its file is gone, so is its history.
    (root / "test_echo.py").unlink()
    subprocess.run([testmap_bin, "classify", str(root)], check=True, capture_output=True)
    assert recorded(root) == {}
