"""The wheel a CI runner installs: built from the sdist, it runs without Debian's -dev libraries.

As a stock CI runner or a slim image would have it: the sdist is built into a wheel on a
machine that has a compiler and CMake but none of the C/C++ libraries' packages (headers,
CMake configs or shared libraries), without a network, then the wheel's ELF files are
checked against the manylinux list, and it is installed into a fresh venv and runs
`classify` and `record --deps` of a small suite, still without those libraries.
`tools/without-dev-libs` hides them in a private mount namespace. Slow (a full build from
source), so it has its own marker and `make test-wheel` runs it.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from test_record_store import TWO_TESTS, echo_port, make_project, recorded

pytestmark = pytest.mark.wheel

REPO = Path(__file__).resolve().parent.parent
WITHOUT_DEV_LIBS = REPO / "tools" / "without-dev-libs"
BUILD_TIMEOUT = 1800
# What a manylinux wheel may need at run time: glibc, libstdc++/libgcc, the loader.
ALLOWED_NEEDED = {
    "libc.so.6",
    "libm.so.6",
    "libdl.so.2",
    "libpthread.so.0",
    "librt.so.1",
    "libstdc++.so.6",
    "libgcc_s.so.1",
    "ld-linux-x86-64.so.2",
    "ld-linux-aarch64.so.1",
}
# The libraries the pinned sources replace, as the build names them.
BUNDLED = [
    "sqlite",
    "tomlplusplus",
    "cli11",
    "nlohmann_json",
    "simdjson",
    "pugixml",
    "fmt",
    "xxhash",
    "libyaml",
    "mimalloc",
]

__all__ = ["echo_port"]  # the fixture, imported for the record test


def run(cmd: list[str | os.PathLike], **kw) -> subprocess.CompletedProcess:
    kw.setdefault("timeout", BUILD_TIMEOUT)
    return subprocess.run(list(map(str, cmd)), capture_output=True, text=True, **kw)


def without_dev_libs(cmd: list[str | os.PathLike], **kw) -> subprocess.CompletedProcess:
    return run([WITHOUT_DEV_LIBS, *cmd], **kw)


def offline_env() -> dict[str, str]:
    # Any download would go to a port nobody listens on, and pip has no index.
    env = {k: v for k, v in os.environ.items() if not k.upper().startswith("PIP_")}
    dead = "http://127.0.0.1:9"
    env.update(http_proxy=dead, https_proxy=dead, HTTP_PROXY=dead, HTTPS_PROXY=dead)
    env.update(PIP_NO_INDEX="1", PYTHONDONTWRITEBYTECODE="1")
    return env


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Path | str]]:
    """The sdist, built into a wheel without the libraries, then `auditwheel repair`ed."""
    out = tmp_path_factory.mktemp("wheel")
    fetch = run(["cmake", "-P", REPO / "cmake" / "fetch_third_party.cmake"])
    assert fetch.returncode == 0, fetch.stdout + fetch.stderr
    sdist = run(
        [sys.executable, "-m", "build", "--sdist", "--no-isolation", "-o", out / "sdist", REPO]
    )
    assert sdist.returncode == 0, sdist.stdout + sdist.stderr
    (tarball,) = (out / "sdist").glob("testmap-*.tar.gz")

    wheel = without_dev_libs(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "-v",
            "--no-build-isolation",
            "--no-deps",
            "-w",
            out / "raw",
            tarball,
        ],
        env=offline_env(),
    )
    log = wheel.stdout + wheel.stderr
    assert wheel.returncode == 0, log[-6000:]
    (raw,) = (out / "raw").glob("testmap-*.whl")

    repaired = run(
        [sys.executable, "-m", "auditwheel", "repair", "-w", out / "repaired", raw],
        env={**os.environ, "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}"},
    )
    assert repaired.returncode == 0, repaired.stdout + repaired.stderr
    (whl,) = (out / "repaired").glob("testmap-*.whl")
    yield {"log": log, "raw": raw, "wheel": whl, "dir": out}


def test_the_sdist_builds_every_library_from_the_sources_it_carries(built) -> None:
    line = re.search(r"built from pinned sources and linked statically: (.*)", built["log"])
    assert line, "the build did not say which libraries it built from source"
    assert [s.strip() for s in line.group(1).split(",")] == BUNDLED


def test_auditwheel_gives_the_wheel_a_manylinux_tag(built) -> None:
    whl: Path = built["wheel"]
    assert re.search(r"-manylinux_\d+_\d+_x86_64\.whl$", whl.name), whl.name
    show = run([sys.executable, "-m", "auditwheel", "show", whl])
    assert show.returncode == 0, show.stderr
    assert re.search(
        r'consistent\s+with\s+the\s+following\s+platform\s+tag:\s+"manylinux_', show.stdout
    )
    # auditwheel had nothing to graft: no library went into testmap.libs/.
    with zipfile.ZipFile(whl) as z:
        assert not [n for n in z.namelist() if ".libs/" in n]
    assert whl.stat().st_size <= 10 * 1024 * 1024, f"{whl.stat().st_size} bytes"


def test_every_elf_file_needs_only_glibc_and_libstdcxx(built, tmp_path: Path) -> None:
    with zipfile.ZipFile(built["wheel"]) as z:
        z.extractall(tmp_path)
    elves = [p for p in tmp_path.rglob("*") if p.is_file() and p.read_bytes()[:4] == b"\x7fELF"]
    names = sorted(p.name for p in elves)
    assert any(n == "testmap" for n in names), names
    assert any(n.startswith("_core.") for n in names), names
    assert "libtestmap_preload.so" in names, names
    for elf in elves:
        dyn = run(["readelf", "-d", elf])
        needed = set(re.findall(r"\(NEEDED\)\s+Shared library: \[([^\]]+)\]", dyn.stdout))
        assert needed <= ALLOWED_NEEDED, f"{elf.name} needs {sorted(needed - ALLOWED_NEEDED)}"


@pytest.fixture(scope="module")
def fresh_venv(built) -> Path:
    """A new venv with the repaired wheel and pytest, made outside the namespace."""
    venv = built["dir"] / "venv"
    made = run([sys.executable, "-m", "venv", venv])
    assert made.returncode == 0, made.stderr
    pip = run([venv / "bin" / "python", "-m", "pip", "install", "-q", built["wheel"], "pytest"])
    assert pip.returncode == 0, pip.stdout + pip.stderr
    return venv


def test_the_developer_build_cannot_start_where_the_libraries_are_hidden() -> None:
    # The other tests' proof rests on the namespace hiding the libraries: the developer
    # build, linked against them, must fail to start there.
    dev = shutil.which("testmap", path=os.path.dirname(sys.executable))
    assert dev, "the developer build is not installed (make build)"
    proc = without_dev_libs([dev, "--version"])
    assert proc.returncode == 127, proc.stdout + proc.stderr
    assert "error while loading shared libraries" in proc.stderr


def test_the_wheel_classifies_and_records_without_the_libraries(
    fresh_venv: Path, echo_port: int, tmp_path: Path
) -> None:
    root = make_project(tmp_path / "p", echo_port, TWO_TESTS)
    # A helper outside the test file, for the affected selection at the end.
    (root / "helpers.py").write_text("def greeting():\n    return b'hi'\n")
    test_file = root / "test_echo.py"
    test_file.write_text(test_file.read_text().replace("s.sendall(b'hi')", "s.sendall(greeting())"))
    test_file.write_text("from helpers import greeting\n" + test_file.read_text())
    bin_dir = fresh_venv / "bin"
    env = {**offline_env(), "PATH": f"{bin_dir}:/usr/bin:/bin"}
    version = without_dev_libs([bin_dir / "testmap", "--version"], env=env)
    assert version.returncode == 0, version.stderr
    assert version.stdout.startswith("testmap ")

    rec = without_dev_libs(
        [
            bin_dir / "testmap",
            "record",
            "--deps",
            "--",
            bin_dir / "python",
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            root,
        ],
        cwd=root,
        env={**env, "PYTHONPATH": str(root)},
    )
    assert rec.returncode == 0, rec.stdout + rec.stderr
    assert recorded(root) == {
        "test_echo.py::test_uses_echo": {"echo"},
        "test_echo.py::test_quiet": set(),
    }

    classify = without_dev_libs([bin_dir / "testmap", "classify", root, "--json"], env=env)
    assert classify.returncode == 0, classify.stderr
    services = {t["id"]: t["services"] for t in json.loads(classify.stdout)["tests"]}
    assert services == {"test_echo.py::test_uses_echo": ["echo"], "test_echo.py::test_quiet": []}

    # The wheel's tracer recorded what each test ran: a change to the helper only the
    # first test calls selects that test alone.
    (root / "helpers.py").write_text("def greeting():\n    return b'ho'\n")
    affected = without_dev_libs([bin_dir / "testmap", "affected", root, "--json"], env=env)
    assert affected.returncode == 0, affected.stderr
    answer = json.loads(affected.stdout)
    assert answer["run_all"] is None
    assert [t["id"] for t in answer["selection"]] == ["test_echo.py::test_uses_echo"]
