"""testmap's test ids equal pytest's on real projects, from the root and from a subdirectory.

Each project is an sdist from PyPI that ships its tests, downloaded once into a cache
(~/.cache/testmap-tests, or $TESTMAP_TEST_CACHE) and unpacked into a temporary directory.
pytest imports the test modules to collect them: the projects' test dependencies
(freezegun, pretend) are in requirements-dev.txt.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest
from test_rootdir import ids_of_pytest, ids_of_testmap

CACHE = Path(os.environ.get("TESTMAP_TEST_CACHE", Path.home() / ".cache" / "testmap-tests"))
# name, version, the subdirectory to run from, the source directory for PYTHONPATH.
PROJECTS = [
    ("click", "8.1.7", "tests", "src"),
    ("itsdangerous", "2.2.0", "tests/test_itsdangerous", "src"),
    ("more-itertools", "10.5.0", "tests", "."),
    ("packaging", "24.2", "tests", "src"),
]


def unpacked(name: str, version: str, into: Path) -> Path:
    sdists = CACHE / "sdists"
    found = [p for p in sdists.glob(f"*-{version}.tar.gz") if p.name.lower().startswith(name)]
    if not found:
        sdists.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            [
                *(sys.executable, "-m", "pip", "download", "-q", "--no-deps"),
                *("--no-binary", ":all:", "-d", str(sdists), f"{name}=={version}"),
            ],
            check=True,
            timeout=300,
        )
        found = [p for p in sdists.glob(f"*-{version}.tar.gz") if p.name.lower().startswith(name)]
    (sdist,) = found
    with tarfile.open(sdist) as t:
        t.extractall(into, filter="data")
    (root,) = [p for p in into.iterdir() if p.is_dir()]
    return root


@pytest.mark.slow
@pytest.mark.parametrize(("name", "version", "subdir", "src"), PROJECTS)
def test_ids_equal_pytests_from_the_root_and_a_subdirectory(
    testmap_bin: str, tmp_path: Path, monkeypatch, name, version, subdir, src
) -> None:
    root = unpacked(name, version, tmp_path)
    # Collection imports the project: its own source, not a copy installed in this venv.
    monkeypatch.setenv("PYTHONPATH", str(root / src))
    at_root = ids_of_testmap(testmap_bin, root)
    assert len(at_root) > 20
    assert at_root == ids_of_pytest(root, "-W", "ignore")
    below = root / subdir
    from_below = ids_of_testmap(testmap_bin, below)
    assert from_below == ids_of_pytest(below, "-W", "ignore")
    assert from_below <= at_root
    assert not (below / ".testmap").exists()


@pytest.mark.slow
def test_a_monorepo_of_real_projects_is_every_projects_ids_from_the_root(
    testmap_bin: str, tmp_path: Path, monkeypatch
) -> None:
    repo = tmp_path / "repo"
    dirs = []
    for name, version, _subdir, _src in PROJECTS:
        root = unpacked(name, version, tmp_path / name)
        target = repo / "libs" / name
        target.parent.mkdir(parents=True, exist_ok=True)
        root.rename(target)
        dirs.append(f"libs/{name}")
    (repo / "pyproject.toml").write_text(f"[tool.testmap]\nprojects = {dirs!r}\n")
    paths = [str(repo / "libs" / n / src) for n, _v, _s, src in PROJECTS]
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(paths))
    expected = {f"{d}/{i}" for d in dirs for i in ids_of_pytest(repo / d, "-W", "ignore")}
    assert ids_of_testmap(testmap_bin, repo) == expected
    # Below a project, that project alone, with its own ids.
    click_tests = repo / "libs" / "click" / "tests"
    assert ids_of_testmap(testmap_bin, click_tests) == ids_of_pytest(click_tests, "-W", "ignore")
    # A plan gives each project its own machines: fewer shards than projects still do.
    proc = subprocess.run(
        [testmap_bin, "plan", "--shards", "3", "--json"],
        cwd=repo,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    machines = json.loads(proc.stdout)["machines"]
    assert sorted(m["project"] for m in machines) == sorted(dirs)
    assert sum(m["tests"] for m in machines) == len(expected)
