"""`testmap where`: the test file of a source file by the mirror rules (and back with
--source), whether it exists in the exit status, and rules that name the key they break."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

RULES = """
[tool.testmap.where]
rules = [
  ["src/{dir}/services/{name}/impl.py", "tests/{dir}/services/test_{name}.py"],
  ["src/{dir}/services/{name}/service.py", "tests/{dir}/services/test_{name}.py"],
  ["src/{dir}/{name}.py", "tests/{dir}/test_{name}.py"],
]
"""


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "mono"
    for rel in (
        "src/pkg/foo/bar.py",
        "src/pkg/foo/services/billing/impl.py",
        "src/pkg/foo/services/billing/service.py",
        "src/pkg/baz.py",
        "tests/pkg/foo/test_bar.py",
        "tests/pkg/foo/services/test_billing.py",
    ):
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text("")
    (root / "pyproject.toml").write_text("[tool.pytest.ini_options]\n")
    return root


def where(testmap_bin: str, cwd: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [testmap_bin, "where", *args], cwd=cwd, capture_output=True, text=True, timeout=60
    )


def test_the_default_rule_finds_the_test_file_and_says_when_it_is_missing(
    testmap_bin: str, project: Path
) -> None:
    found = where(testmap_bin, project, "src/pkg/foo/bar.py")
    assert (found.returncode, found.stdout, found.stderr) == (0, "tests/pkg/foo/test_bar.py\n", "")
    missing = where(testmap_bin, project, "src/pkg/baz.py")
    assert missing.returncode == 1
    assert missing.stdout == "tests/pkg/test_baz.py\n"
    assert "tests/pkg/test_baz.py does not exist: a new test file goes there" in missing.stderr
    # From a subdirectory, and for a file that does not exist yet: paths are the rootdir's.
    sub = where(testmap_bin, project / "src" / "pkg", "new.py")
    assert (sub.returncode, sub.stdout) == (1, "tests/pkg/test_new.py\n")
    back = where(testmap_bin, project, "--source", "tests/pkg/foo/test_bar.py")
    assert (back.returncode, back.stdout) == (0, "src/pkg/foo/bar.py\n")


def test_ordered_rules_map_a_service_to_its_shared_test_file(
    testmap_bin: str, project: Path
) -> None:
    (project / "pyproject.toml").write_text("[tool.pytest.ini_options]\n" + RULES)
    impl = where(testmap_bin, project, "src/pkg/foo/services/billing/impl.py", "--json")
    assert impl.returncode == 0, impl.stderr
    assert json.loads(impl.stdout) == {
        "path": "src/pkg/foo/services/billing/impl.py",
        "mirrors": [
            {
                "path": "tests/pkg/foo/services/test_billing.py",
                "exists": True,
                "rule": [
                    "src/{dir}/services/{name}/impl.py",
                    "tests/{dir}/services/test_{name}.py",
                ],
            }
        ],
    }
    back = where(testmap_bin, project, "--source", "tests/pkg/foo/services/test_billing.py")
    assert back.returncode == 0
    assert back.stdout.splitlines() == [
        "src/pkg/foo/services/billing/impl.py",
        "src/pkg/foo/services/billing/service.py",
        "src/pkg/foo/services/billing.py",
    ]
    assert "src/pkg/foo/services/billing.py does not exist" in back.stderr


def test_a_path_no_rule_maps_and_a_bad_rule_are_usage_errors(
    testmap_bin: str, project: Path
) -> None:
    unmapped = where(testmap_bin, project, "tests/pkg/foo/test_bar.py")
    assert unmapped.returncode == 2
    assert "no rule maps tests/pkg/foo/test_bar.py to its test file" in unmapped.stderr
    assert "pass --source" in unmapped.stderr
    (project / "pyproject.toml").write_text(
        '[tool.testmap.where]\nrules = [["src/{module}.py", "tests/test_{module}.py"]]\n'
    )
    bad = where(testmap_bin, project, "src/pkg/baz.py")
    assert bad.returncode == 2
    assert (
        "pyproject.toml:2: tool.testmap.where.rules[0]: unknown placeholder at '{module}' "
        "(known: {dir}, {name})" in bad.stderr
    ), bad.stderr
