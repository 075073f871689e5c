"""A bad TESTMAP_SHM leaves the shim inert: a program under LD_PRELOAD works as without it.

No `testmap record` here: a plain ``python -c`` with the shim preloaded and TESTMAP_SHM
unset, or pointing at something that is not a region. Redis (pure Python) and PostgreSQL
(libpq, C) round trips must give the right replies, and a refused connect must still raise
ECONNREFUSED (errno untouched).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from shop.testing.servers import free_port

SCRIPT = """
import errno
import socket
import sys

import psycopg2
import redis

with open("/proc/self/maps") as maps:
    assert "libtestmap_preload.so" in maps.read(), "the shim is not loaded"

redis_port, pg_port, pg_user, closed_port = sys.argv[1:5]
client = redis.Redis(host="127.0.0.1", port=int(redis_port))
client.set("tm-bad-shm", "round trip")
print(client.get("tm-bad-shm").decode())
conn = psycopg2.connect(host="127.0.0.1", port=int(pg_port), user=pg_user, dbname="postgres")
with conn.cursor() as cur:
    cur.execute("select 6 * 7")
    print(cur.fetchone()[0])
conn.close()
try:
    socket.create_connection(("127.0.0.1", int(closed_port)), timeout=10)
except OSError as exc:
    print(errno.errorcode[exc.errno])
"""


def _bad_shm(kind: str, tmp_path: Path) -> str | None:
    path = tmp_path / "region"
    if kind == "missing":
        return str(path)
    if kind == "empty":
        path.write_bytes(b"")
    elif kind == "one_byte":
        path.write_bytes(b"\x01")
    elif kind == "garbage":
        path.write_bytes(bytes(range(256)) * 64)
    elif kind == "directory":
        path.mkdir()
    return None if kind == "unset" else str(path)


@pytest.mark.parametrize("kind", ["unset", "missing", "empty", "one_byte", "garbage", "directory"])
def test_bad_region_leaves_the_shim_inert(kind, shim, live, tmp_path, plain_env):
    env = dict(plain_env, LD_PRELOAD=str(shim))
    shm = _bad_shm(kind, tmp_path)
    if shm is not None:
        env["TESTMAP_SHM"] = shm
    proc = subprocess.run(
        [
            sys.executable,
            "-c",
            SCRIPT,
            str(live.redis.port),
            str(live.postgres.port),
            live.postgres.user,
            str(free_port()),
        ],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines() == ["round trip", "42", "ECONNREFUSED"], proc.stderr
