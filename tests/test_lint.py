"""`testmap lint`: a project's test conventions of [tool.testmap.lint], each rule both broken
and kept, every finding at its exact position and nothing else; the output formats, --diff
against a base, `# noqa`, and config errors that name their key."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

CONFIG = """
[tool.pytest.ini_options]
testpaths = ["tests"]

[tool.testmap.lint]
new-test-file = true

[tool.testmap.lint.banned-calls]
"*.objects.create" = "use a factory: self.create_*()"

[tool.testmap.lint.forbid-inside]
"assume_test_silo_mode*" = ["self.create_*", "Factories.create_*"]

[tool.testmap.lint.forbid-imports]
"tests/**/rpc/**" = ["__future__.annotations"]

[tool.testmap.lint.base-classes]
"tests/**" = ["app.cases.TestCase", "app.cases.TransactionTestCase"]

[tool.testmap.lint.costly-bases.TransactionTestCase]
reasons = ["threading.*", "transaction.on_commit"]
instead = ["TestCase"]
"""

CASES = """\
import unittest


class TransactionTestCase(unittest.TestCase):
    pass


class TestCase(TransactionTestCase):
    def create_user(self):
        return object()


def assume_test_silo_mode(mode):
    import contextlib

    return contextlib.nullcontext()
"""

# Each line that breaks a rule says so in a trailing comment: `# !TM101` (the first call
# on the line is the one reported), `# !TM104@class` (the class keyword).
MODELS = """\
import threading

from app import cases
from app.cases import TestCase, TransactionTestCase
from app.cases import assume_test_silo_mode as silo_mode
from app import transaction

mode = cases.assume_test_silo_mode


class TestModels(TestCase):
    def test_banned(self):
        User.objects.create(name="x")  # !TM101
        User.objects.filter(name="x")
        self.create_user()

    def test_inside(self):
        with silo_mode("region"):
            with open("f"):
                self.create_user()  # !TM102
            User.objects.get()
            def later():
                self.create_user()
        self.create_user()
        with mode("control"), self.settings(X=1):
            Factories.create_org()  # !TM102
        with other_silo_mode():
            self.create_user()

    def test_silenced(self):
        User.objects.create()  # noqa: TM101
        User.objects.create()  # noqa


class TestThreads(TransactionTestCase):
    def test_thread(self):
        threading.Thread(target=print).start()


class TestCommits(TransactionTestCase):
    def setUp(self):
        transaction.on_commit(print)

    def test_commit(self):
        pass


class TestNoThreads(TransactionTestCase):  # !TM105@class
    def test_plain(self):
        assert 1


class TestBare:  # !TM104@class
    def test_x(self):
        pass
"""

RPC = """\
from __future__ import annotations  # !TM103

def test_rpc():
    pass
"""

PLAIN = """\
from __future__ import annotations


def test_plain():
    pass
"""


def expected(root: Path) -> set[tuple[str, int, int, str]]:
    """The findings the `# !CODE` comments of the project's files announce."""
    found = set()
    for path in sorted(root.rglob("*.py")):
        for n, line in enumerate(path.read_text().splitlines(), 1):
            if "# !" not in line:
                continue
            tag = line.split("# !")[1].split()[0]
            code, _, where = tag.partition("@")
            stripped = line.lstrip()
            col = len(line) - len(stripped) + 1
            if where == "class":
                col = line.index("class ") + 1
            found.add((path.relative_to(root).as_posix(), n, col, code))
    return found


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "proj"
    files = {
        "pyproject.toml": CONFIG,
        "app/__init__.py": "",
        "app/cases.py": CASES,
        "app/transaction.py": "def on_commit(f):\n    f()\n",
        "src/app/models.py": "X = 1\n",
        "tests/app/test_models.py": MODELS,
        "tests/app/rpc/test_rpc.py": RPC,
        "tests/app/test_plain.py": PLAIN,
    }
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    git(root, "init", "-q")
    git(root, "add", "-A")
    git(root, "commit", "-qm", "start")
    return root


def git(root: Path, *args: str) -> None:
    env = {
        **os.environ,
        "GIT_AUTHOR_NAME": "t",
        "GIT_AUTHOR_EMAIL": "t@e",
        "GIT_COMMITTER_NAME": "t",
    }
    env["GIT_COMMITTER_EMAIL"] = "t@e"
    subprocess.run(["git", *args], cwd=root, check=True, env=env, capture_output=True)


def lint(testmap_bin: str, cwd: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [testmap_bin, "lint", *args], cwd=cwd, capture_output=True, text=True, timeout=60
    )


def positions(out: str) -> set[tuple[str, int, int, str]]:
    found = set()
    for line in out.splitlines():
        where, _, rest = line.partition(": ")
        path, ln, col = where.rsplit(":", 2)
        found.add((path, int(ln), int(col), rest.split()[0]))
    return found


def test_every_rule_broken_and_kept_reports_exactly_the_broken(
    testmap_bin: str, project: Path
) -> None:
    r = lint(testmap_bin, project)
    assert r.returncode == 1, r.stderr
    assert positions(r.stdout) == expected(project)
    # The messages name what was found and why: the alias resolved, the rule's message.
    assert "User.objects.create(): use a factory: self.create_*()" in r.stdout
    assert "`with silo_mode()` (app.cases.assume_test_silo_mode, line 18)" in r.stdout
    assert "`with mode()` (cases.assume_test_silo_mode, line 25)" in r.stdout
    assert "TestNoThreads derives from TransactionTestCase" in r.stdout
    assert "use TestCase" in r.stdout
    assert "6 problems in 2 of 3 files" in r.stderr


def test_json_and_sarif_carry_the_same_findings(testmap_bin: str, project: Path) -> None:
    text = positions(lint(testmap_bin, project).stdout)
    j = lint(testmap_bin, project, "--json")
    assert j.returncode == 1
    data = json.loads(j.stdout)
    assert data["files_checked"] == 3
    assert {(f["path"], f["line"], f["col"], f["code"]) for f in data["findings"]} == text
    assert {f["rule"] for f in data["findings"]} == {
        "banned-calls",
        "forbid-inside",
        "forbid-imports",
        "base-classes",
        "costly-bases",
    }
    s = lint(testmap_bin, project, "--format", "sarif")
    assert s.returncode == 1
    sarif = json.loads(s.stdout)
    assert sarif["version"] == "2.1.0"
    run = sarif["runs"][0]
    rules = run["tool"]["driver"]["rules"]
    got = set()
    for res in run["results"]:
        assert rules[res["ruleIndex"]]["id"] == res["ruleId"]
        loc = res["locations"][0]["physicalLocation"]
        got.add(
            (
                loc["artifactLocation"]["uri"],
                loc["region"]["startLine"],
                loc["region"]["startColumn"],
                res["ruleId"],
            )
        )
    assert got == text


def test_paths_narrow_and_source_files_are_not_test_code(testmap_bin: str, project: Path) -> None:
    # What pre-commit passes: changed files, source files among them. A rule without
    # `paths` is for test code only.
    (project / "app" / "helpers.py").write_text("def f():\n    User.objects.create()\n")
    r = lint(testmap_bin, project, "tests/app/rpc", "app/helpers.py")
    assert r.returncode == 1
    assert positions(r.stdout) == {("tests/app/rpc/test_rpc.py", 1, 1, "TM103")}
    clean = lint(testmap_bin, project, "tests/app/test_plain.py")
    assert clean.returncode == 0, clean.stdout
    assert clean.stdout == ""
    assert "no problems in 1 file" in clean.stderr


def test_diff_reports_only_changed_lines(testmap_bin: str, project: Path) -> None:
    models = project / "tests" / "app" / "test_models.py"
    text = models.read_text()
    text = text.replace(
        '        User.objects.filter(name="x")\n',
        '        User.objects.filter(name="x")\n        Team.objects.create()\n',
    )
    models.write_text(text)
    line = text.splitlines().index("        Team.objects.create()") + 1
    r = lint(testmap_bin, project, "--diff")
    assert r.returncode == 1, r.stderr
    assert positions(r.stdout) == {("tests/app/test_models.py", line, 9, "TM101")}
    git(project, "commit", "-qam", "team")
    assert lint(testmap_bin, project, "--diff").returncode == 0
    assert lint(testmap_bin, project, "--diff", "--base", "HEAD~1").returncode == 1
    bad = lint(testmap_bin, project, "--diff", "--base", "no-such-ref")
    assert bad.returncode == 2
    assert "no-such-ref" in bad.stderr


def test_a_new_test_file_beside_its_modules_test_file(testmap_bin: str, project: Path) -> None:
    # tests/app/test_models.py tests src/app/models.py; a new file importing that module
    # belongs there. A new file for a module without tests is the right thing to do.
    (project / "src" / "app" / "billing.py").write_text("Y = 2\n")
    (project / "tests" / "app" / "test_models_extra.py").write_text(
        "from app import models\n\n\ndef test_x():\n    assert models.X\n"
    )
    (project / "tests" / "app" / "test_billing.py").write_text(
        "from app import billing\n\n\ndef test_y():\n    assert billing.Y\n"
    )
    r = lint(testmap_bin, project, "tests/app/test_models_extra.py", "tests/app/test_billing.py")
    assert r.returncode == 1
    assert positions(r.stdout) == {("tests/app/test_models_extra.py", 1, 1, "TM106")}
    assert "its tests belong in tests/app/test_models.py" in r.stdout
    git(project, "add", "-A")
    git(project, "commit", "-qm", "extra")
    # Committed: no longer new against HEAD, still new against the commit before.
    assert lint(testmap_bin, project, "tests/app/test_models_extra.py").returncode == 0
    again = lint(testmap_bin, project, "tests/app/test_models_extra.py", "--base", "HEAD~1")
    assert positions(again.stdout) == {("tests/app/test_models_extra.py", 1, 1, "TM106")}


def test_config_errors_name_file_line_and_key(testmap_bin: str, tmp_path: Path) -> None:
    root = tmp_path / "bad"
    (root / "tests").mkdir(parents=True)
    (root / "tests" / "test_a.py").write_text("def test_a():\n    pass\n")
    (root / "pyproject.toml").write_text(
        textwrap.dedent(
            """\
            [tool.pytest.ini_options]

            [tool.testmap.lint.banned-calls]
            "*.objects.create" = 3

            [tool.testmap.lint.forbid-inside]
            "cm*" = { call = ["x"] }
            """
        )
    )
    r = lint(testmap_bin, root)
    assert r.returncode == 2
    assert 'pyproject.toml:4: tool.testmap.lint.banned-calls."*.objects.create"' in r.stderr
    # The first problem, then the next once that one is fixed.
    config = (root / "pyproject.toml").read_text().replace("= 3", '= "use a factory"')
    (root / "pyproject.toml").write_text(config)
    r = lint(testmap_bin, root)
    assert r.returncode == 2
    assert 'pyproject.toml:7: tool.testmap.lint.forbid-inside."cm*".call: unknown key' in r.stderr
    (root / "pyproject.toml").write_text("[tool.pytest.ini_options]\n")
    none = lint(testmap_bin, root)
    assert none.returncode == 2
    assert "no rules in [tool.testmap.lint]" in none.stderr


def test_a_file_that_does_not_parse_is_reported_not_skipped(
    testmap_bin: str, project: Path
) -> None:
    (project / "tests" / "app" / "test_broken.py").write_text("def test_a(:\n    pass\n")
    r = lint(testmap_bin, project, "tests/app/test_broken.py")
    assert r.returncode == 1
    assert positions(r.stdout) == {("tests/app/test_broken.py", 1, 1, "TM001")}


def test_costly_base_says_what_its_tests_cost(testmap_bin: str, project: Path) -> None:
    # Durations recorded by a real pytest run; the costly class's own test sleeps.
    models = project / "tests" / "app" / "test_models.py"
    models.write_text(
        models.read_text().replace(
            "    def test_plain(self):\n        assert 1\n",
            "    def test_plain(self):\n        import time\n\n        time.sleep(0.3)\n",
        )
    )
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "--testmap-durations",
            "tests/app/test_models.py::TestNoThreads",
        ],
        cwd=project,
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(project)},
        timeout=120,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    r = lint(testmap_bin, project, "tests/app/test_models.py", "--json")
    costly = [f for f in json.loads(r.stdout)["findings"] if f["code"] == "TM105"]
    assert len(costly) == 1
    message = costly[0]["message"]
    assert "(1 tests, " in message and " s in the last recorded run)" in message
    seconds = float(message.split("(1 tests, ")[1].split(" s in")[0])
    assert 0.3 <= seconds < 5
    quiet = lint(testmap_bin, project, "tests/app/test_models.py", "--json", "--no-durations")
    assert "recorded run" not in quiet.stdout
