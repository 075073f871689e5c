"""Throw-away PostgreSQL, Redis, memcached and search servers on free ports, for the test suite."""

from __future__ import annotations

import atexit
import glob
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[2]
UNPRIVILEGED_USER = "nobody"


class ServerError(RuntimeError):
    """A server did not start (the message ends with its log)."""


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _is_root() -> bool:
    return hasattr(os, "geteuid") and os.geteuid() == 0


def _as_unprivileged(argv: list[str]) -> list[str]:
    """Postgres refuses to run as root: run it as `nobody` then."""
    return ["runuser", "-u", UNPRIVILEGED_USER, "--", *argv] if _is_root() else argv


def _tail(path: Path, lines: int = 20) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def _wait_for(check, timeout: float, what: str, log: Path, proc: subprocess.Popen | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise ServerError(f"{what} exited with {proc.returncode}:\n{_tail(log)}")
        try:
            if check():
                return
        except OSError:
            pass
        time.sleep(0.05)
    raise ServerError(f"{what} not ready after {timeout}s:\n{_tail(log)}")


def _send_line(port: int, line: bytes, expect: bytes) -> bool:
    with socket.create_connection(("127.0.0.1", port), timeout=1) as sock:
        sock.sendall(line)
        return sock.recv(64).startswith(expect)


def _declare_to_testmap(name: str, port: int) -> None:
    """Under `testmap record`, say which service listens on this free port (docs/runtime.md)."""
    try:
        import testmap.runtime
    except ImportError:  # testmap is optional for the shop
        return
    testmap.runtime.declare_service(name, port=port)


class Server:
    """A server in its own temporary directory; `url` is what clients connect to."""

    name = "server"
    startup_timeout = 15.0

    def __init__(self) -> None:
        self.port = 0
        self.tmpdir: Path | None = None
        self.proc: subprocess.Popen | None = None
        self.log: Path | None = None

    @property
    def url(self) -> str:
        raise NotImplementedError

    def start(self) -> Server:
        self.tmpdir = Path(tempfile.mkdtemp(prefix=f"shop-{self.name}-"))
        self.log = self.tmpdir / "server.log"
        try:
            for attempt in range(3):  # another process may grab the free port first
                self.port = free_port()
                # Declared before the readiness probes connect: a server testmap cannot
                # name by its program (the search server is Python) would be recorded as
                # an unnamed address until then.
                _declare_to_testmap(self.name, self.port)
                try:
                    self._start()
                    return self
                except ServerError:
                    self._stop()
                    if attempt == 2:
                        raise
        except BaseException:
            self.stop()
            raise
        return self

    def _spawn(self, argv: list[str]) -> None:
        assert self.log is not None and self.tmpdir is not None
        with open(self.log, "ab") as log:
            self.proc = subprocess.Popen(
                argv, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, cwd=self.tmpdir
            )

    def _start(self) -> None:
        raise NotImplementedError

    def _stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None

    def stop(self) -> None:
        self._stop()
        if self.tmpdir is not None:
            shutil.rmtree(self.tmpdir, ignore_errors=True)
            self.tmpdir = None


def postgres_bindir() -> Path:
    """Where initdb and pg_ctl are: $PG_BINDIR, PATH, or the newest /usr/lib/postgresql/*/bin."""
    if os.environ.get("PG_BINDIR"):
        return Path(os.environ["PG_BINDIR"])
    found = shutil.which("pg_ctl")
    if found:
        return Path(found).parent
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=lambda p: int(Path(p).parent.name))
    if not candidates:
        raise ServerError("PostgreSQL binaries not found; set PG_BINDIR")
    return Path(candidates[-1])


class PostgresServer(Server):
    """initdb into the temporary directory, then pg_ctl start with trust auth on 127.0.0.1."""

    name = "postgres"
    user = "shop"
    database = "shop"

    def __init__(self) -> None:
        super().__init__()
        self._started = False

    @property
    def url(self) -> str:
        return f"postgresql://{self.user}@127.0.0.1:{self.port}/{self.database}"

    def _pg(self, tool: str, *args: str, timeout: float = 60) -> None:
        assert self.tmpdir is not None and self.log is not None
        argv = _as_unprivileged([str(postgres_bindir() / tool), *args])
        with open(self.log, "ab") as log:
            done = subprocess.run(
                argv,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                cwd=self.tmpdir,
                timeout=timeout,
                check=False,
            )
        if done.returncode != 0:
            raise ServerError(
                f"{tool} failed with {done.returncode}:\n{_tail(self.log)}\n{_tail(self.tmpdir / 'postgres.log')}"
            )

    def _start(self) -> None:
        assert self.tmpdir is not None
        data = self.tmpdir / "data"
        if _is_root():
            shutil.chown(self.tmpdir, UNPRIVILEGED_USER)
        if not data.exists():
            self._pg(
                "initdb",
                "-D",
                str(data),
                "-U",
                self.user,
                "-A",
                "trust",
                "-E",
                "UTF8",
                "--locale=C",
                "--no-sync",
                "--no-instructions",
            )
        options = (
            f"-p {self.port} -k {self.tmpdir} -c listen_addresses=127.0.0.1 "
            "-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        )
        self._pg(
            "pg_ctl",
            "-D",
            str(data),
            "-l",
            str(self.tmpdir / "postgres.log"),
            "-o",
            options,
            "-w",
            "-t",
            str(int(self.startup_timeout)),
            "start",
        )
        self._started = True
        import psycopg2

        conn = psycopg2.connect(host="127.0.0.1", port=self.port, user=self.user, dbname="postgres")
        try:
            conn.autocommit = True
            with conn.cursor() as cur:
                cur.execute(f"CREATE DATABASE {self.database}")
        finally:
            conn.close()

    def _stop(self) -> None:
        if self.tmpdir is not None and self._started:
            self._started = False
            try:
                self._pg("pg_ctl", "-D", str(self.tmpdir / "data"), "-m", "fast", "-w", "stop")
            except (ServerError, subprocess.TimeoutExpired):
                self._pg("pg_ctl", "-D", str(self.tmpdir / "data"), "-m", "immediate", "-w", "stop")


class RedisServer(Server):
    name = "redis"

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def _start(self) -> None:
        assert self.tmpdir is not None and self.log is not None
        self._spawn(
            [
                "redis-server",
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.tmpdir),
            ]
        )
        _wait_for(
            lambda: _send_line(self.port, b"PING\r\n", b"+PONG"),
            self.startup_timeout,
            "redis-server",
            self.log,
            self.proc,
        )


class MemcachedServer(Server):
    name = "memcached"

    @property
    def url(self) -> str:
        return f"127.0.0.1:{self.port}"

    def _start(self) -> None:
        assert self.log is not None
        argv = ["memcached", "-p", str(self.port), "-l", "127.0.0.1", "-U", "0", "-m", "64"]
        if _is_root():
            argv += ["-u", UNPRIVILEGED_USER]
        self._spawn(argv)
        _wait_for(
            lambda: _send_line(self.port, b"version\r\n", b"VERSION"),
            self.startup_timeout,
            "memcached",
            self.log,
            self.proc,
        )


class SearchServer(Server):
    """shop/search_server.py in a subprocess."""

    name = "search"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _healthy(self) -> bool:
        with urllib.request.urlopen(self.url + "/health", timeout=1) as response:
            return response.status == 200

    def _start(self) -> None:
        assert self.log is not None
        env = dict(os.environ, PYTHONPATH=str(PROJECT_ROOT))
        with open(self.log, "ab") as log:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "shop.search_server", "--port", str(self.port)],
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                cwd=PROJECT_ROOT,
                env=env,
            )
        _wait_for(self._healthy, self.startup_timeout, "search server", self.log, self.proc)


SERVER_CLASSES: dict[str, type[Server]] = {
    "postgres": PostgresServer,
    "redis": RedisServer,
    "memcached": MemcachedServer,
    "search": SearchServer,
}

# The setting (and SHOP_<SETTING> environment variable) through which each server is published.
PUBLISHED_AS = {
    "postgres": "DATABASE_URL",
    "redis": "REDIS_URL",
    "memcached": "MEMCACHED_SERVERS",
    "search": "SEARCH_URL",
}


class ServerRegistry:
    """Starts each server on first request, publishes its address, stops them all at the end."""

    def __init__(self) -> None:
        self._servers: dict[str, Server] = {}
        self._lock = threading.Lock()

    def get(self, name: str) -> Server:
        with self._lock:
            server = self._servers.get(name)
            if server is None:
                server = SERVER_CLASSES[name]().start()
                self._servers[name] = server
                os.environ["SHOP_" + PUBLISHED_AS[name]] = server.url
            return server

    def running(self) -> list[str]:
        return sorted(self._servers)

    def stop(self, name: str) -> None:
        with self._lock:
            server = self._servers.pop(name, None)
            os.environ.pop("SHOP_" + PUBLISHED_AS[name], None)
        if server is not None:
            server.stop()

    def stop_all(self) -> None:
        for name in list(self._servers):
            self.stop(name)


registry = ServerRegistry()
atexit.register(registry.stop_all)


def ensure(name: str) -> Server:
    """The running server `name`, started now if needed."""
    return registry.get(name)
