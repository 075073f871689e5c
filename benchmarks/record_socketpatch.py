"""Baseline for benchmarks/record: the socket patch a CI team writes without testmap.

A pytest plugin (load it with `-p record_socketpatch`, this directory on PYTHONPATH) that
wraps the methods of `socket.socket` that connect, send and receive, works out each
socket's peer (at `connect`, else from `getpeername()` at first use, then cached per
socket), maps the peer's port to a service with the ports of `[tool.testmap.services]` in
the rootdir's pyproject.toml (plus the standard PostgreSQL and Redis ports), and records
the services each test used in each phase (setup, call, teardown).

Traffic to a non-loopback address on an undeclared port is recorded as
`external:HOST:PORT`; loopback traffic to undeclared ports and DNS are ignored, like
testmap's runtime half does. Like every Python-level patch it cannot see sockets that C
libraries open themselves (libpq under psycopg2, libmemcached under pylibmc).

At the end of the session the results are written as JSON,
`{"nodeid": {"setup": [...], "call": [...], "teardown": [...]}}`, to the file named by
$RECORD_SOCKETPATCH_OUT (default `.socketpatch.json` in the rootdir; an xdist worker adds
`.gwN` to the name).
"""

from __future__ import annotations

import functools
import ipaddress
import json
import os
import socket
import tomllib
import weakref
from pathlib import Path

import pytest

DEFAULT_PORTS = {5432: "postgres", 6379: "redis"}
IGNORED_PORTS = {53}

_ports: dict[int, str] = {}
_unix_suffixes: dict[str, str] = {}
_peers: weakref.WeakKeyDictionary[socket.socket, str | None] = weakref.WeakKeyDictionary()
_results: dict[str, dict[str, set[str]]] = {}
_current: dict[str, set[str]] | None = None  # the running test's phase -> services
_phase = ""
_originals: dict[str, object] = {}


def _load_services(rootdir: Path) -> None:
    _ports.clear()
    _unix_suffixes.clear()
    _ports.update(DEFAULT_PORTS)
    try:
        with open(rootdir / "pyproject.toml", "rb") as f:
            services = tomllib.load(f).get("tool", {}).get("testmap", {}).get("services", {})
    except (OSError, tomllib.TOMLDecodeError):
        services = {}
    for name, table in services.items():
        ports = table.get("ports", [])
        for port in [ports] if isinstance(ports, int) else ports:
            _ports[int(port)] = name
        for suffix in table.get("unix-sockets", []):
            _unix_suffixes[suffix] = name
    for port, name in _ports.items():
        if name == "postgres":
            _unix_suffixes[f".s.PGSQL.{port}"] = name


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.split("%", 1)[0]).is_loopback
    except ValueError:
        return False


def _service_of(address) -> str | None:
    """The service at a socket address, `external:HOST:PORT`, or None (not a service)."""
    if isinstance(address, (str, bytes)):  # AF_UNIX
        path = os.fsdecode(address)
        for suffix, name in _unix_suffixes.items():
            if path.endswith(suffix):
                return name
        return None
    if isinstance(address, tuple) and len(address) >= 2 and isinstance(address[1], int):
        host, port = str(address[0]), address[1]
        if port in _ports:
            return _ports[port]
        if port in IGNORED_PORTS or _is_loopback(host):
            return None
        return f"external:{host}:{port}"
    return None


def _peer_service(sock: socket.socket) -> str | None:
    try:
        return _peers[sock]
    except KeyError:
        pass
    try:
        address = sock.getpeername()
    except OSError:  # not connected (yet): look again next time
        return None
    service = _peers[sock] = _service_of(address)
    return service


def _record(service: str | None) -> None:
    if service is not None and _current is not None:
        _current[_phase].add(service)


def _wrap(name: str, make):
    original = getattr(socket.socket, name, None)
    if original is None:
        return
    _originals[name] = original
    setattr(socket.socket, name, functools.wraps(original)(make(original)))


def _make_connect(original):
    def connect(self, address, *args, **kwargs):
        service = _peers[self] = _service_of(address)
        _record(service)
        return original(self, address, *args, **kwargs)

    return connect


def _make_peer_call(original):
    def call(self, *args, **kwargs):
        if _current is not None:
            _record(_peer_service(self))
        return original(self, *args, **kwargs)

    return call


def _make_sendto(original):
    def sendto(self, data, *args):  # sendto(data, address) or sendto(data, flags, address)
        if _current is not None and args:
            _record(_service_of(args[-1]))
        return original(self, data, *args)

    return sendto


def _make_sendmsg(original):
    def sendmsg(self, buffers, *args):  # sendmsg(buffers[, ancdata[, flags[, address]]])
        if _current is not None:
            _record(_service_of(args[2]) if len(args) >= 3 else _peer_service(self))
        return original(self, buffers, *args)

    return sendmsg


def install() -> None:
    if _originals:
        return
    for name in ("connect", "connect_ex"):
        _wrap(name, _make_connect)
    for name in ("send", "sendall", "recv", "recv_into", "recvfrom", "recvfrom_into", "recvmsg"):
        _wrap(name, _make_peer_call)
    _wrap("sendto", _make_sendto)
    _wrap("sendmsg", _make_sendmsg)


def uninstall() -> None:
    for name, original in _originals.items():
        setattr(socket.socket, name, original)
    _originals.clear()


def pytest_configure(config: pytest.Config) -> None:
    _load_services(config.rootpath)
    install()


def pytest_unconfigure(config: pytest.Config) -> None:
    uninstall()


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem: pytest.Item | None):
    global _current, _phase
    _current = _results.setdefault(item.nodeid, {"setup": set(), "call": set(), "teardown": set()})
    _phase = "setup"
    try:
        return (yield)
    finally:
        _current = None


def _phase_wrapper(phase: str):
    @pytest.hookimpl(wrapper=True, tryfirst=True)
    def hook(item: pytest.Item):
        global _phase
        _phase = phase
        return (yield)

    return hook


pytest_runtest_setup = _phase_wrapper("setup")
pytest_runtest_call = _phase_wrapper("call")
pytest_runtest_teardown = _phase_wrapper("teardown")


def pytest_sessionfinish(session: pytest.Session) -> None:
    out = os.environ.get("RECORD_SOCKETPATCH_OUT") or str(
        session.config.rootpath / ".socketpatch.json"
    )
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if worker:
        out = f"{out}.{worker}"
    doc = {
        nodeid: {phase: sorted(services) for phase, services in phases.items()}
        for nodeid, phases in _results.items()
    }
    with open(out, "w") as f:
        json.dump(doc, f, sort_keys=True)
