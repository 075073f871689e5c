"""Fixtures for the runtime tests: real servers, throw-away projects, `testmap record` on them.

Each test writes a small pytest project into its tmp_path and runs
``testmap record -- python -m pytest -p no:cacheprovider -q PROJECT`` on it, then reads what
was recorded from the project's store (``.testmap/testmap.db``). The servers (PostgreSQL,
Redis, memcached) are real, started once per session on free ports in temporary directories
by the example shop's helpers, and stopped at the end. The throw-away projects start nothing:
they find the servers through ``TM_*`` environment variables, read by the module
``addresses.py`` that is written into every project.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import pytest

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "examples" / "shop"))

from shop.testing import servers  # noqa: E402

RECORD_TIMEOUT = 120  # seconds; only there so that a hang fails instead of blocking

# Written into every throw-away project: where the outer session's servers listen.
ADDRESSES = '''
"""Where the servers of the outer test session listen (from its environment)."""
import os
from pathlib import Path

PG = {
    "host": "127.0.0.1",
    "port": int(os.environ["TM_PG_PORT"]),
    "user": os.environ["TM_PG_USER"],
    "dbname": os.environ["TM_PG_DB"],
    "connect_timeout": 10,
}
PG_PORT = PG["port"]
PG_SOCKET_DIR = os.environ["TM_PG_SOCKET_DIR"]
PSQL = os.environ["TM_PSQL"]
REDIS_PORT = int(os.environ["TM_REDIS_PORT"])
REDIS = ("127.0.0.1", REDIS_PORT)
MEMCACHED = "127.0.0.1:" + os.environ["TM_MEMCACHED_PORT"]
TLS_CERT = os.environ["TM_TLS_CERT"]
TLS_KEY = os.environ["TM_TLS_KEY"]
OUT = Path(os.environ["TM_OUT"])
'''


@dataclass
class Servers:
    postgres: servers.PostgresServer
    redis: servers.RedisServer
    memcached: servers.MemcachedServer
    tls_cert: Path
    tls_key: Path

    @property
    def pg_socket(self) -> str:
        """PostgreSQL's Unix socket (`-k` is the server's temporary directory)."""
        return str(self.postgres.tmpdir / f".s.PGSQL.{self.postgres.port}")

    def env(self) -> dict[str, str]:
        pg_ctl = servers.postgres_bindir() / "pg_ctl"
        return {
            "TM_PG_PORT": str(self.postgres.port),
            "TM_PG_USER": self.postgres.user,
            "TM_PG_DB": self.postgres.database,
            "TM_PG_SOCKET_DIR": str(self.postgres.tmpdir),
            # pg_ctl may be a symlink into the version's bin directory, where psql is
            "TM_PSQL": str(pg_ctl.resolve().parent / "psql"),
            "TM_REDIS_PORT": str(self.redis.port),
            "TM_MEMCACHED_PORT": str(self.memcached.port),
            "TM_TLS_CERT": str(self.tls_cert),
            "TM_TLS_KEY": str(self.tls_key),
        }


def _started(server: servers.Server) -> Iterator[servers.Server]:
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def pg_server() -> Iterator[servers.PostgresServer]:
    yield from _started(servers.PostgresServer())


@pytest.fixture(scope="session")
def redis_server() -> Iterator[servers.RedisServer]:
    yield from _started(servers.RedisServer())


@pytest.fixture(scope="session")
def memcached_server() -> Iterator[servers.MemcachedServer]:
    yield from _started(servers.MemcachedServer())


@pytest.fixture(scope="session")
def tls_files(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 and localhost, and its key."""
    tmp = tmp_path_factory.mktemp("tls")
    cert, key = tmp / "cert.pem", tmp / "key.pem"
    # fmt: off
    argv = [
        "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=localhost",
        "-days", "1", "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost",
        "-keyout", str(key), "-out", str(cert),
    ]
    # fmt: on
    done = subprocess.run(argv, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, f"openssl failed:\n{done.stderr}"
    return cert, key


@pytest.fixture(scope="session")
def live(
    pg_server: servers.PostgresServer,
    redis_server: servers.RedisServer,
    memcached_server: servers.MemcachedServer,
    tls_files: tuple[Path, Path],
) -> Servers:
    """Every server of the session, started."""
    return Servers(pg_server, redis_server, memcached_server, *tls_files)


@pytest.fixture(scope="session")
def shim(testmap_bin: str) -> Path:
    """The shim, where `make build` installs it: <venv>/lib/testmap/libtestmap_preload.so."""
    path = Path(testmap_bin).parent.parent / "lib" / "testmap" / "libtestmap_preload.so"
    if not path.is_file():
        pytest.fail(f"the shim {path} is not installed; build it first (`make build`)")
    return path


def child_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """The environment of a child: no recording state inherited from outside, no proxies."""
    env = dict(os.environ)
    for name in list(env):
        if name.startswith("TESTMAP_") or name.lower().endswith("_proxy"):
            del env[name]
    for name in ("PYTEST_ADDOPTS", "PYTEST_PLUGINS", "PYTEST_DISABLE_PLUGIN_AUTOLOAD"):
        env.pop(name, None)
    if "libtestmap_preload" in env.get("LD_PRELOAD", ""):
        del env["LD_PRELOAD"]
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    env["PYTHONIOENCODING"] = "utf-8"
    env.update(extra or {})
    return env


@pytest.fixture
def plain_env() -> dict[str, str]:
    """The environment for a child that is not recorded (see child_env)."""
    return child_env()


def runtime_services(db: Path) -> dict[str, dict[str, set[str]]]:
    """{nodeid: {phase: {service, ...}}} from the store's runtime rows."""
    found: dict[str, dict[str, set[str]]] = {}
    for nodeid, phase, service, _rule in runtime_rows(db):
        found.setdefault(nodeid, {}).setdefault(phase, set()).add(service)
    return found


def runtime_rows(db: Path) -> list[tuple[str, str, str, str]]:
    """(nodeid, phase, service, rule) for every runtime row of the store."""
    return _query(
        db,
        "SELECT t.nodeid, u.phase, u.service, u.rule FROM service_use u "
        "JOIN test t ON t.id = u.test_id WHERE u.source = 'runtime'",
    )


def outcomes(db: Path) -> dict[str, str]:
    """{nodeid: outcome} from the store's duration rows of the latest run."""
    rows = _query(
        db,
        "SELECT t.nodeid, d.outcome FROM duration d JOIN test t ON t.id = d.test_id "
        "WHERE d.run_id = (SELECT max(run_id) FROM duration)",
    )
    found: dict[str, str] = {}
    for nodeid, outcome in rows:
        assert nodeid not in found, f"two duration rows for {nodeid} in one run"
        found[nodeid] = outcome
    return found


def _query(db: Path, sql: str) -> list[tuple]:
    assert db.is_file(), f"no store at {db}"
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        return conn.execute(sql).fetchall()
    finally:
        conn.close()


@dataclass
class Recorded:
    """One `testmap record` run on a throw-away project."""

    root: Path
    out: Path  # TM_OUT: where the project's tests may leave files for the assertions
    argv: list[str]
    proc: subprocess.CompletedProcess

    @property
    def db(self) -> Path:
        return self.root / ".testmap" / "testmap.db"

    @property
    def output(self) -> str:
        return self.proc.stdout + self.proc.stderr

    def describe(self) -> str:
        return (
            f"$ {' '.join(self.argv)}\nexit {self.proc.returncode}\n"
            f"stdout:\n{self.proc.stdout[-4000:]}\nstderr:\n{self.proc.stderr[-4000:]}"
        )

    def _store(self, read: Callable[[Path], object]):
        assert self.db.is_file(), f"testmap record wrote no store {self.db}\n{self.describe()}"
        return read(self.db)

    def services(self) -> dict[str, dict[str, set[str]]]:
        return self._store(runtime_services)

    def rows(self) -> list[tuple[str, str, str, str]]:
        return self._store(runtime_rows)

    def outcomes(self) -> dict[str, str]:
        return self._store(outcomes)


def _pyproject(services: dict[str, dict[str, list]], extra: str) -> str:
    lines = ["[tool.pytest.ini_options]", ""]
    for name, keys in services.items():
        lines.append(f"[tool.testmap.services.{name}]")
        # a JSON list of strings and integers is a TOML array
        lines += [f"{key} = {json.dumps(list(values))}" for key, values in keys.items()]
        lines.append("")
    return "\n".join(lines) + extra


Record = Callable[..., Recorded]


@pytest.fixture
def record(testmap_bin: str, live: Servers, tmp_path: Path) -> Record:
    """Write a throw-away project and run `testmap record` on it.

    ``record(files, services={"redis": {"ports": [port]}}, toml="", enforce=False,
    args=(), paths=None, env={}, wrap=None, command=("record",))``: WRAP is a command that
    runs testmap (a namespace, say); COMMAND the testmap subcommand and its options before
    ``--`` (``("init", "--record")``); FILES maps relative paths to contents (``addresses.py``
    is added); SERVICES become ``[tool.testmap.services.NAME]`` tables of its
    pyproject.toml, TOML is appended to it; ARGS go to pytest, then PATHS (default: the
    project). Calling it again on the same project rewrites the files and records again. A
    crash of `testmap` itself fails the test at once.
    """

    def run(
        files: dict[str, str],
        *,
        services: dict[str, dict[str, list]] | None = None,
        toml: str = "",
        enforce: bool = False,
        args: tuple[str, ...] = (),
        paths: tuple[str, ...] | None = None,
        env: dict[str, str] | None = None,
        subdir: str = "project",
        wrap: list[str] | None = None,
        command: tuple[str, ...] = ("record",),
    ) -> Recorded:
        root = tmp_path / subdir
        out = tmp_path / f"{subdir}-out"
        out.mkdir(parents=True, exist_ok=True)
        root.mkdir(parents=True, exist_ok=True)
        contents = {"addresses.py": ADDRESSES, "pyproject.toml": _pyproject(services or {}, toml)}
        contents.update(files)
        for rel, text in contents.items():
            path = root / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
        argv = [*(wrap or []), testmap_bin, *command, *(["--enforce"] if enforce else []), "--"]
        argv += [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", *args]
        argv += paths if paths is not None else [str(root)]
        proc = subprocess.run(
            argv,
            cwd=root,
            capture_output=True,
            encoding="utf-8",
            errors="replace",
            timeout=RECORD_TIMEOUT,
            env=child_env({**live.env(), "TM_OUT": str(out), **(env or {})}),
        )
        done = Recorded(root, out, argv, proc)
        if proc.returncode < 0:
            pytest.fail(
                f"testmap record was killed by signal {-proc.returncode}\n{done.describe()}"
            )
        return done

    return run
