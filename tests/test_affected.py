"""Affected-test selection: `pytest --testmap-deps` records what each test runs, then
`testmap affected` and `pytest --testmap-affected` run only what a change can break.

Each test edits a small real project after a real recording and checks which tests are
selected, against what the edit can reach; the fail-safe cases run everything and say why.
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from collection import clean_env, write_tree

PROJECT = {
    "pyproject.toml": "[tool.pytest.ini_options]\ntestpaths = ['tests']\n",
    "pkg/__init__.py": "",
    "pkg/consts.py": "LIMIT = 3\n",
    "pkg/calc.py": (
        "from pkg.consts import LIMIT\n\n\n"
        "def add(a, b):\n    return a + b\n\n\n"
        "def mul(a, b):\n    return a * b\n\n\n"
        "def twice(a):\n    return add(a, a)\n\n\n"
        "class Shape:\n    sides = 4\n\n    def area(self):\n        return self.sides * 2\n\n\n"
        "class Square(Shape):\n    def name(self):\n        return 'square'\n"
    ),
    "pkg/data.py": (
        "import json\nimport pathlib\n\n\n"
        "def load():\n"
        "    return json.loads((pathlib.Path(__file__).parent / 'data.json').read_text())\n"
    ),
    "pkg/data.json": '{"n": 1}\n',
    "tests/__init__.py": "",
    "tests/test_calc.py": (
        "from pkg import calc\nfrom pkg.consts import LIMIT\n\n\n"
        "def test_add():\n    assert calc.add(1, 2) == 3\n\n\n"
        "def test_mul():\n    assert calc.mul(2, 3) == 6\n\n\n"
        "def test_twice():\n    assert calc.twice(2) == 4\n\n\n"
        "def test_area():\n    assert calc.Square().area() == 8\n\n\n"
        "def test_name():\n    assert calc.Square().name() == 'square'\n\n\n"
        "def test_limit():\n    assert LIMIT == 3\n"
    ),
    "tests/sub/__init__.py": "",
    "tests/sub/conftest.py": "import pytest\n\n\n@pytest.fixture\ndef one():\n    return 1\n",
    "tests/sub/test_sub.py": "def test_one(one):\n    assert one == 1\n",
}
ALL = {
    "tests/test_calc.py::test_add",
    "tests/test_calc.py::test_mul",
    "tests/test_calc.py::test_twice",
    "tests/test_calc.py::test_area",
    "tests/test_calc.py::test_name",
    "tests/test_calc.py::test_limit",
    "tests/sub/test_sub.py::test_one",
}


def pytest_run(root: Path, *args: str) -> subprocess.CompletedProcess:
    # No .pyc (clean_env sets PYTHONDONTWRITEBYTECODE): an edit of the same size in the
    # same second as a run would leave it valid.
    env = clean_env()
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *args],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )


def affected(testmap_bin: str, root: Path) -> dict:
    proc = subprocess.run(
        [testmap_bin, "affected", "--json", str(root)], capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def reasons(testmap_bin: str, root: Path) -> dict[str, list[str]]:
    """Each selected test with its reasons."""
    return {t["id"]: t["reasons"] for t in affected(testmap_bin, root)["selection"]}


def selected(testmap_bin: str, root: Path) -> set[str]:
    return {t["id"] for t in affected(testmap_bin, root)["selection"]}


def edit(root: Path, rel: str, old: str, new: str) -> None:
    path = root / rel
    text = path.read_text()
    assert old in text, f"{old!r} not in {rel}"
    path.write_text(text.replace(old, new, 1))


def record_with(root: Path, files: dict[str, str]) -> Path:
    """Writes files under root, then records a passing run with pytest --testmap-deps."""
    write_tree(root, files)
    proc = pytest_run(root, "--testmap-deps", "-p", "no:xdist")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return root


@pytest.fixture
def recorded(tmp_path: Path) -> Path:
    """The project, with one passing run recorded by pytest --testmap-deps."""
    return record_with(tmp_path / "proj", PROJECT)


def test_nothing_changed_selects_nothing(recorded: Path, testmap_bin: str) -> None:
    result = affected(testmap_bin, recorded)
    assert result["tests"] == len(ALL)
    assert result["selected"] == 0 and result["run_all"] is None
    # A change that reaches no test passes, saying so; a suite with no test still fails.
    proc = pytest_run(recorded, "--testmap-affected")
    assert proc.returncode == 0, proc.stdout
    assert "running 0 of 7 tests that the change can affect" in proc.stdout
    (recorded / "tests/test_empty.py").write_text("# no tests yet\n")
    assert pytest_run(recorded, "--testmap-affected", "tests/test_empty.py").returncode == 5


def test_under_xdist_the_run_says_what_it_selected_and_an_empty_selection_passes(
    recorded: Path,
) -> None:
    # The workers select; the controller, whose terminal is the one shown, says so.
    proc = pytest_run(recorded, "-n", "2", "--testmap-affected")
    assert proc.returncode == 0, proc.stdout
    assert "running 0 of 7 tests that the change can affect" in proc.stdout
    edit(recorded, "pkg/calc.py", "return a + b", "return a - b")
    proc = pytest_run(recorded, "-n", "2", "--testmap-affected", "-rf")
    assert proc.returncode == 1, proc.stdout
    assert "running 2 of 7 tests that the change can affect; deselected 5" in proc.stdout
    failed = {line.split()[1] for line in proc.stdout.splitlines() if line.startswith("FAILED")}
    assert failed == {"tests/test_calc.py::test_add", "tests/test_calc.py::test_twice"}


def test_a_function_edit_selects_exactly_its_callers_tests(recorded, testmap_bin) -> None:
    edit(recorded, "pkg/calc.py", "return a + b", "return b + a")
    assert selected(testmap_bin, recorded) == {
        "tests/test_calc.py::test_add",
        "tests/test_calc.py::test_twice",  # through twice() -> add()
    }


def test_reformatting_and_comments_select_nothing(recorded, testmap_bin) -> None:
    edit(
        recorded,
        "pkg/calc.py",
        "def mul(a, b):\n    return a * b",
        "def mul(a,\n        b):\n    # why\n\n    return a * \\\n        b",
    )
    (recorded / "pkg/consts.py").write_text("# the limit\nLIMIT = 3  # three\n")
    assert selected(testmap_bin, recorded) == set()


def test_a_class_attribute_selects_the_tests_that_used_the_class(recorded, testmap_bin) -> None:
    edit(recorded, "pkg/calc.py", "    sides = 4\n", "    sides = 4\n    colour = 'red'\n")
    assert selected(testmap_bin, recorded) == {
        "tests/test_calc.py::test_area",  # ran Shape.area
        "tests/test_calc.py::test_name",  # used Square, which inherits the attribute
    }


def test_a_method_added_to_a_subclass_selects_its_users(recorded, testmap_bin) -> None:
    edit(
        recorded,
        "pkg/calc.py",
        "class Square(Shape):\n",
        "class Square(Shape):\n    def area(self):\n        return 0\n\n",
    )
    got = selected(testmap_bin, recorded)
    # test_area ran only Shape.area, on a Square: the new override changes its result.
    assert got == {"tests/test_calc.py::test_area", "tests/test_calc.py::test_name"}
    proc = pytest_run(recorded, "--testmap-affected")
    assert "1 failed, 1 passed" in proc.stdout and "test_area" in proc.stdout, proc.stdout


MODELS = {
    "pkg/models.py": (
        "from sqlalchemy import Integer, String\n"
        "from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column\n\n\n"
        "class Base(DeclarativeBase):\n    pass\n\n\n"
        "class User(Base):\n    __tablename__ = 'users'\n"
        "    id: Mapped[int] = mapped_column(Integer, primary_key=True)\n"
        "    name: Mapped[str] = mapped_column(String)\n\n\n"
        "class Order(Base):\n    __tablename__ = 'orders'\n"
        "    id: Mapped[int] = mapped_column(Integer, primary_key=True)\n"
    ),
    "tests/test_models.py": (
        "from sqlalchemy import create_engine, select\n"
        "from sqlalchemy.orm import Session\n\n"
        "from pkg import models\n\n\n"
        "def engine():\n"
        "    e = create_engine('sqlite://')\n"
        "    models.Base.metadata.create_all(e)\n"
        "    return e\n\n\n"
        "def test_user():\n"
        "    with Session(engine()) as s:\n"
        "        s.add(models.User(name='ann'))\n"
        "        s.commit()\n"
        "        assert s.scalars(select(models.User.name)).all() == ['ann']\n\n\n"
        "def test_order():\n"
        "    with Session(engine()) as s:\n"
        "        s.add(models.Order())\n"
        "        s.commit()\n"
        "        assert s.scalars(select(models.Order.id)).all() == [1]\n\n\n"
        "def test_plain():\n"
        "    assert models.__name__ == 'pkg.models'\n"
    ),
}


def test_a_column_added_to_a_sqlalchemy_model_selects_the_tests_that_use_it(
    recorded, testmap_bin
) -> None:
    record_with(recorded, MODELS)
    assert selected(testmap_bin, recorded) == set()
    # The model runs no code of the project's (SQLAlchemy's own __init__ builds it), yet a
    # new NOT NULL column breaks every test that inserts a User.
    edit(
        recorded,
        "pkg/models.py",
        "    name: Mapped[str] = mapped_column(String)\n",
        "    name: Mapped[str] = mapped_column(String)\n"
        "    email: Mapped[str] = mapped_column(String, nullable=False)\n",
    )
    got = reasons(testmap_bin, recorded)
    if sys.version_info < (3, 12):  # the recording says which test met a User
        assert got == {"tests/test_models.py::test_user": ["pkg/models.py::User changed"]}
    else:
        # Code that names User or its ancestor Base (whose metadata has the new column)
        # ran in both tests that build the tables; the plain test names neither.
        assert set(got) == {"tests/test_models.py::test_user", "tests/test_models.py::test_order"}
        assert got["tests/test_models.py::test_user"] == [
            "tests/test_models.py imports pkg/models.py, whose Base, User changed"
        ]
    proc = pytest_run(recorded, "--testmap-affected")
    assert "1 failed" in proc.stdout and "test_user" in proc.stdout, proc.stdout


def test_a_module_level_constant_selects_the_tests_that_name_it(recorded, testmap_bin) -> None:
    (recorded / "pkg/consts.py").write_text("LIMIT = 4\n")
    result = affected(testmap_bin, recorded)
    got = {t["id"]: t["reasons"] for t in result["selection"]}
    # test_limit read the constant imported at import time and ran no code of consts.py;
    # calc.py imports it too, but none of the calc functions the other tests ran names it.
    assert set(got) == {"tests/test_calc.py::test_limit"}
    assert got["tests/test_calc.py::test_limit"] == [
        "tests/test_calc.py imports LIMIT from pkg/consts.py, where it changed"
    ]
    proc = pytest_run(recorded, "--testmap-affected")
    assert "1 failed" in proc.stdout and "test_limit" in proc.stdout, proc.stdout


DYNAMIC = {
    "pkg/rates.py": "EUR = 2\nUSD = 3\n\n\ndef own(name):\n    return globals()[name]\n",
    "pkg/lookup.py": (
        "from pkg import rates\n\n\n"
        "def rate(name):\n    return getattr(rates, name)\n\n\n"
        "def table():\n    return dict(vars(rates))\n\n\n"
        "def other():\n    return 1\n"
    ),
    "tests/test_lookup.py": (
        "from pkg import lookup, rates\n\n\n"
        "def test_rate():\n    assert lookup.rate('eur'.upper()) == 2\n\n\n"
        "def test_table():\n    assert lookup.table()['usd'.upper()] == 3\n\n\n"
        "def test_own():\n    assert rates.own('eur'.upper()) == 2\n\n\n"
        "def test_other():\n    assert lookup.other() == 1\n"
    ),
}


def test_a_constant_read_by_a_computed_name_selects_that_code(recorded, testmap_bin) -> None:
    record_with(recorded, DYNAMIC)
    assert selected(testmap_bin, recorded) == set()
    # No code names EUR (the tests spell it in lower case): getattr(rates, name),
    # vars(rates) and globals() can read it.
    edit(recorded, "pkg/rates.py", "EUR = 2", "EUR = 5")
    assert selected(testmap_bin, recorded) == {
        "tests/test_lookup.py::test_rate",
        "tests/test_lookup.py::test_table",
        "tests/test_lookup.py::test_own",
    }
    proc = pytest_run(recorded, "--testmap-affected")
    assert "2 failed, 1 passed" in proc.stdout, proc.stdout


IMPORT_TIME = {
    "pkg/ops.py": (
        "def make(op):\n    def run(a, b):\n        return op(a, b)\n\n    return run\n"
    ),
    "pkg/calc2.py": (
        "import operator\n\nfrom pkg.ops import make\n\n\n"
        "class Calc:\n    add = staticmethod(make(operator.add))\n"
    ),
    "tests/test_calc2.py": (
        "from pkg.calc2 import Calc\n\n\ndef test_add():\n    assert Calc.add(1, 2) == 3\n"
    ),
    # Imported by the first conftest pytest loads, before its plugins are configured.
    "tests/conftest.py": "import pkg.calc2  # noqa: F401\n",
}


def test_code_run_at_import_reaches_the_tests_of_its_importers(recorded, testmap_bin) -> None:
    record_with(recorded, IMPORT_TIME)
    assert selected(testmap_bin, recorded) == set()
    # make() ran once, while tests/conftest.py imported pkg/calc2.py: no test ran it, but
    # the class it built is what test_add calls.
    edit(recorded, "pkg/ops.py", "    return run\n", "    return lambda a, b: 0\n")
    got = reasons(testmap_bin, recorded)
    assert set(got) == {"tests/test_calc2.py::test_add"}
    assert any(
        "pkg/ops.py::make, which ran when modules were imported" in r
        for r in got["tests/test_calc2.py::test_add"]
    ), got
    proc = pytest_run(recorded, "--testmap-affected")
    assert "1 failed" in proc.stdout and "test_add" in proc.stdout, proc.stdout


def test_a_deleted_function_selects_its_callers(recorded, testmap_bin) -> None:
    edit(recorded, "pkg/calc.py", "def mul(a, b):\n    return a * b\n\n\n", "")
    assert selected(testmap_bin, recorded) == {"tests/test_calc.py::test_mul"}


def test_a_new_test_runs(recorded, testmap_bin) -> None:
    (recorded / "tests/test_new.py").write_text("def test_new():\n    pass\n")
    result = affected(testmap_bin, recorded)
    got = {t["id"]: t["reasons"] for t in result["selection"]}
    assert set(got) == {"tests/test_new.py::test_new"}
    assert "never recorded" in got["tests/test_new.py::test_new"][0]


def test_a_conftest_change_runs_the_tests_below_it(recorded, testmap_bin) -> None:
    edit(recorded, "tests/sub/conftest.py", "return 1", "return 1  # one")
    assert selected(testmap_bin, recorded) == {"tests/sub/test_sub.py::test_one"}


@pytest.mark.parametrize("rel", ["pyproject.toml", "requirements.txt"])
def test_a_config_or_requirements_change_runs_everything(recorded, testmap_bin, rel) -> None:
    with open(recorded / rel, "a") as f:
        f.write("\n# changed\n")
    result = affected(testmap_bin, recorded)
    assert result["selected"] == len(ALL)
    assert rel in result["run_all"]
    proc = pytest_run(recorded, "--testmap-affected")
    assert f"running every test: {rel}" in proc.stdout, proc.stdout


def test_files_the_config_names_run_everything_when_they_change(
    tmp_path: Path, testmap_bin: str
) -> None:
    root = tmp_path / "proj"
    files = {
        **PROJECT,
        "pyproject.toml": PROJECT["pyproject.toml"]
        + "\n[tool.testmap.affected]\nrun-all-when = ['docker/**', 'db/*.sql']\n",
        "docker/compose/init.sh": "echo init\n",
        "db/schema.sql": "create table t (id int);\n",
        "db/notes.txt": "not named\n",
        "docker/.hidden/x": "a hidden directory is not read\n",
    }
    record_with(root, files)
    assert selected(testmap_bin, root) == set()
    (root / "db/notes.txt").write_text("changed, but no glob names it\n")
    (root / "docker/.hidden/x").write_text("changed\n")
    assert selected(testmap_bin, root) == set()
    for rel in ("db/schema.sql", "docker/compose/init.sh", "docker/compose/new.env"):
        (root / rel).write_text("changed\n")
        result = affected(testmap_bin, root)
        assert result["selected"] == len(ALL), rel
        what = "was added" if rel.endswith("new.env") else "changed"
        assert result["run_all"] == f"{rel} {what}: it can change every test"
        assert pytest_run(root, "--testmap-deps", "-p", "no:xdist").returncode == 0
        assert selected(testmap_bin, root) == set()  # recorded again: settled


def test_a_bad_run_all_when_is_a_config_error(tmp_path: Path, testmap_bin: str) -> None:
    root = tmp_path / "proj"
    root.mkdir()
    (root / "pyproject.toml").write_text("[tool.testmap.affected]\nrun-all-when = [3]\n")
    proc = subprocess.run(
        [testmap_bin, "affected", str(root)], capture_output=True, text=True, timeout=60
    )
    assert proc.returncode != 0
    assert "tool.testmap.affected.run-all-when" in proc.stderr, proc.stderr


def test_without_a_recording_everything_runs(tmp_path: Path, testmap_bin: str) -> None:
    root = write_tree(tmp_path / "proj", PROJECT)
    result = affected(testmap_bin, root)
    assert result["selected"] == len(ALL)
    assert "no recording" in result["run_all"]
    assert not (root / ".testmap").exists()  # asking creates no store


def test_a_test_that_failed_when_recorded_runs_again(recorded, testmap_bin) -> None:
    edit(recorded, "tests/sub/test_sub.py", "assert one == 1", "assert one == 2")
    assert pytest_run(recorded, "--testmap-deps", "-p", "no:xdist").returncode == 1
    edit(recorded, "tests/sub/test_sub.py", "assert one == 2", "assert one == 1")
    got = reasons(testmap_bin, recorded)
    assert "tests/sub/test_sub.py::test_one" in got
    assert any("failed" in r for r in got["tests/sub/test_sub.py::test_one"])


def test_a_corrupt_store_runs_everything_and_says_why(recorded, testmap_bin) -> None:
    store = recorded / ".testmap" / "testmap.db"
    db = sqlite3.connect(store)
    db.execute("PRAGMA user_version = 99")
    db.commit()
    db.close()
    result = affected(testmap_bin, recorded)
    assert result["selected"] == len(ALL)
    assert "cannot be read" in result["run_all"]


def test_xdist_records_what_one_process_records(recorded, testmap_bin, tmp_path) -> None:
    def units(root: Path) -> dict[str, set[tuple[str, str]]]:
        db = sqlite3.connect(root / ".testmap" / "testmap.db")
        rows = db.execute(
            "SELECT t.nodeid, u.file, u.name FROM test_unit tu JOIN test t ON t.id = tu.test_id "
            "JOIN unit u ON u.id = tu.unit_id"
        ).fetchall()
        db.close()
        out: dict[str, set[tuple[str, str]]] = {}
        for nodeid, file, name in rows:
            out.setdefault(nodeid, set()).add((file, name))
        return out

    alone = units(recorded)
    assert set(alone) == ALL
    assert ("pkg/calc.py", "add") in alone["tests/test_calc.py::test_twice"]
    assert ("pkg/calc.py", "Shape") in alone["tests/test_calc.py::test_area"]
    (recorded / ".testmap" / "testmap.db").unlink()
    proc = pytest_run(recorded, "--testmap-deps", "-n", "2")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert units(recorded) == alone


def test_a_data_file_the_test_read_selects_it(recorded, testmap_bin) -> None:
    (recorded / "tests/test_data.py").write_text(
        "from pkg import data\n\n\ndef test_data():\n    assert data.load() == {'n': 1}\n"
    )
    assert pytest_run(recorded, "--testmap-deps", "-p", "no:xdist").returncode == 0
    assert selected(testmap_bin, recorded) == set()
    (recorded / "pkg/data.json").write_text('{"n": 2}\n')
    got = reasons(testmap_bin, recorded)
    assert got == {"tests/test_data.py::test_data": ["pkg/data.json changed"]}


def test_plan_affected_plans_only_the_selected_tests(recorded, testmap_bin) -> None:
    edit(recorded, "pkg/calc.py", "return a + b", "return b + a")
    proc = subprocess.run(
        [
            testmap_bin,
            "plan",
            str(recorded),
            "--affected",
            "--shards",
            "2",
            "--unit",
            "test",
            "--json",
        ],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stderr
    units = {u for m in json.loads(proc.stdout)["machines"] for u in m["units"]}
    assert units == {"tests/test_calc.py::test_add", "tests/test_calc.py::test_twice"}
    assert "2 of 7 tests affected" in proc.stderr


WORK = {
    "pkg/work.py": (
        "def in_child():\n    return 5\n\n\n"
        "def in_thread():\n    return 6\n\n\n"
        "def in_old_thread():\n    return 7\n\n\n"
        "def in_fork(queue):\n    queue.put(8)\n\n\n"
        "def in_raw_fork():\n    return 9\n"
    ),
    "tests/test_work.py": (
        "import concurrent.futures\nimport os\nimport subprocess\nimport sys\n"
        "import threading\n\n"
        "from pkg import work\n\n"
        "POOL = concurrent.futures.ThreadPoolExecutor(1)\n"
        "POOL.submit(lambda: None).result()  # its thread starts before any test\n\n\n"
        "def test_child():\n"
        "    code = 'from pkg import work; print(work.in_child())'\n"
        "    env = {**os.environ, 'PYTHONPATH': os.getcwd()}\n"
        "    out = subprocess.run([sys.executable, '-c', code], env=env, capture_output=True,\n"
        "                         text=True, check=True).stdout\n"
        "    assert out.strip() == '5'\n\n\n"
        "def test_thread():\n"
        "    got = []\n"
        "    t = threading.Thread(target=lambda: got.append(work.in_thread()))\n"
        "    t.start()\n    t.join()\n    assert got == [6]\n\n\n"
        "def test_old_thread():\n"
        "    assert POOL.submit(work.in_old_thread).result() == 7\n\n\n"
        "def test_fork():\n"
        "    import multiprocessing\n\n"
        "    ctx = multiprocessing.get_context('fork')\n"
        "    queue = ctx.Queue()\n"
        "    child = ctx.Process(target=work.in_fork, args=(queue,))\n"
        "    child.start()\n    got = queue.get(timeout=30)\n    child.join()\n"
        "    assert got == 8\n\n\n"
        "def test_raw_fork():\n"
        "    r, w = os.pipe()\n"
        "    pid = os.fork()\n"
        "    if pid == 0:\n"
        "        os.write(w, str(work.in_raw_fork()).encode())\n"
        "        os._exit(0)\n"
        "    os.close(w)\n    os.waitpid(pid, 0)\n"
        "    assert os.read(r, 10) == b'9'\n"
    ),
}


@pytest.mark.parametrize(
    ("function", "test"),
    [
        ("in_child", "test_child"),
        ("in_thread", "test_thread"),
        ("in_old_thread", "test_old_thread"),
        ("in_fork", "test_fork"),
        ("in_raw_fork", "test_raw_fork"),
    ],
)
def test_code_run_in_a_child_process_or_another_thread_counts(
    recorded, testmap_bin, function, test
) -> None:
    record_with(recorded, WORK)
    assert selected(testmap_bin, recorded) == set()
    if function == "in_fork":
        edit(recorded, "pkg/work.py", "queue.put(8)", "queue.put(1000)")
    else:
        value = {"in_child": "5", "in_thread": "6", "in_old_thread": "7", "in_raw_fork": "9"}
        edit(
            recorded,
            "pkg/work.py",
            f"def {function}():\n    return {value[function]}",
            f"def {function}():\n    return 1000",
        )
    got = reasons(testmap_bin, recorded)
    assert got == {f"tests/test_work.py::{test}": [f"pkg/work.py::{function} changed"]}
    proc = pytest_run(recorded, "--testmap-affected")
    assert "1 failed" in proc.stdout and test in proc.stdout, proc.stdout


FLOW = {
    "flow/__init__.py": "from flow.consts import RATE\n",
    "flow/consts.py": "RATE = 2\nSCALE = 10\nBASE = 5\nBIG = BASE * 20\n\nprint_me = False\n",
    "flow/money.py": (
        "from flow import consts\nfrom flow.consts import BIG\n\n\n"
        "def scaled(x):\n    return x * consts.SCALE\n\n\n"
        "def big(x):\n    return x + BIG\n\n\n"
        "def plain(x):\n    return x\n"
    ),
    "tests/test_flow.py": (
        "import flow\nfrom flow import money\n\n\n"
        "def test_rate():\n    assert flow.RATE == 2\n\n\n"
        "def test_scaled():\n    assert money.scaled(1) == 10\n\n\n"
        "def test_big():\n    assert money.big(0) == 100\n\n\n"
        "def test_plain():\n    assert money.plain(1) == 1\n"
    ),
}


@pytest.mark.parametrize(
    ("old", "new", "expected", "reason"),
    [
        # Re-exported by the package's __init__, read as an attribute of the package.
        ("RATE = 2", "RATE = 3", {"test_rate"}, "RATE"),
        # Read as an attribute of the module, in a function.
        ("SCALE = 10", "SCALE = 11", {"test_scaled"}, "SCALE"),
        ("BIG = BASE * 20", "BIG = BASE * 21", {"test_big"}, "BIG"),
        # BIG is computed from BASE at import time: a BASE change may reach anything BIG
        # reaches, as a change of the whole module does.
        (
            "BASE = 5",
            "BASE = 6",
            {"test_rate", "test_scaled", "test_big", "test_plain"},
            "module-level code",
        ),
        # Any other top-level statement can do anything at import: every importer.
        (
            "print_me = False\n",
            "print_me = False\nprint('hello')\n",
            {"test_rate", "test_scaled", "test_big", "test_plain"},
            "module-level code",
        ),
    ],
)
def test_a_changed_binding_is_followed_by_name(
    recorded, testmap_bin, old, new, expected, reason
) -> None:
    record_with(recorded, FLOW)
    assert selected(testmap_bin, recorded) == set()
    edit(recorded, "flow/consts.py", old, new)
    got = reasons(testmap_bin, recorded)
    assert set(got) == {f"tests/test_flow.py::{t}" for t in expected}
    assert all(any(reason in r for r in reasons) for reasons in got.values()), got
    # What the selection leaves out passes: the change broke only selected tests.
    proc = pytest_run(recorded, "tests/test_flow.py", "--testmap-affected")
    full = pytest_run(recorded, "tests/test_flow.py")
    failed = {
        line.split("::")[-1].split(" ")[0]
        for line in full.stdout.splitlines()
        if line.startswith("FAILED")
    }
    assert failed <= expected, full.stdout
    assert f"running {len(expected)} of " in proc.stdout, proc.stdout


def git(root: Path, *args: str) -> str:
    env = {
        **os.environ,
        "GIT_AUTHOR_NAME": "t",
        "GIT_AUTHOR_EMAIL": "t@example.com",
        "GIT_COMMITTER_NAME": "t",
        "GIT_COMMITTER_EMAIL": "t@example.com",
    }
    proc = subprocess.run(
        ["git", "-c", "protocol.file.allow=always", *args],
        cwd=root,
        capture_output=True,
        text=True,
        env=env,
    )
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.strip()


def affected_base(testmap_bin: str, root: Path, base: str) -> dict:
    proc = subprocess.run(
        [testmap_bin, "affected", "--json", "--base", base, str(root)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""
    return json.loads(proc.stdout)


@pytest.fixture
def committed(recorded: Path) -> Path:
    """The recorded project as the first commit of a git repository."""
    git(recorded, "init", "-q", "-b", "main")
    (recorded / ".gitignore").write_text(".testmap/\n__pycache__/\n")
    git(recorded, "add", "-A")
    git(recorded, "commit", "-q", "-m", "base")
    return recorded


def test_base_counts_changes_the_recording_already_saw(committed, testmap_bin) -> None:
    # Changed, then recorded: the recording holds the change, so on its own nothing is
    # affected; against the commit before the change, add's callers are.
    edit(committed, "pkg/calc.py", "return a + b", "return b + a")
    git(committed, "commit", "-q", "-am", "change add")
    assert pytest_run(committed, "--testmap-deps", "-p", "no:xdist").returncode == 0
    assert selected(testmap_bin, committed) == set()
    got = {
        t["id"]: t["reasons"] for t in affected_base(testmap_bin, committed, "HEAD~1")["selection"]
    }
    assert got == {
        "tests/test_calc.py::test_add": ["pkg/calc.py::add changed since HEAD~1"],
        "tests/test_calc.py::test_twice": ["pkg/calc.py::add changed since HEAD~1"],
    }
    proc = pytest_run(committed, "--testmap-affected", "--testmap-base", "HEAD~1")
    assert "running 2 of 7 tests" in proc.stdout, proc.stdout


def test_base_with_a_rename_a_binary_file_and_a_merge_commit(committed, testmap_bin) -> None:
    (committed / "tests/test_data.py").write_text(
        "from pkg import data\n\n\ndef test_data():\n    assert data.load() == {'n': 1}\n"
    )
    git(committed, "add", "-A")
    git(committed, "commit", "-q", "-m", "data test")
    assert pytest_run(committed, "--testmap-deps", "-p", "no:xdist").returncode == 0
    git(committed, "checkout", "-q", "-b", "side")
    (committed / "blob.bin").write_bytes(b"\x00\xff\x00")
    git(committed, "add", "-A")
    git(committed, "commit", "-q", "-m", "binary")
    git(committed, "checkout", "-q", "main")
    git(committed, "merge", "-q", "--no-ff", "-m", "merge", "side")
    # On a detached HEAD, against the merge commit's first parent; then a rename.
    git(committed, "checkout", "-q", "--detach", "HEAD")
    git(committed, "mv", "pkg/data.py", "pkg/loader.py")
    (committed / "pkg/data.py").write_text("from pkg.loader import load\n")
    result = affected_base(testmap_bin, committed, "HEAD^1")
    got = {t["id"]: t["reasons"] for t in result["selection"]}
    assert result["run_all"] is None
    # The function it ran moved to another file: it runs; nothing else does.
    assert set(got) == {"tests/test_data.py::test_data"}
    assert "pkg/data.py::load was removed" in got["tests/test_data.py::test_data"]


@pytest.mark.parametrize(
    ("setup", "expected"),
    [
        ("missing", "--base nope: no such commit here"),
        ("no-git", "is not in a git work tree"),
        ("shallow", "no such commit in this shallow clone"),
    ],
)
def test_a_base_git_cannot_answer_runs_everything(recorded, testmap_bin, tmp_path, setup, expected):
    root, base = recorded, "nope"
    if setup == "missing":
        git(recorded, "init", "-q")
    if setup == "shallow":
        git(recorded, "init", "-q", "-b", "main")
        git(recorded, "add", "-A")
        git(recorded, "commit", "-q", "-m", "one")
        base = git(recorded, "rev-parse", "HEAD")
        (recorded / "pkg/extra.py").write_text("X = 1\n")
        git(recorded, "add", "-A")
        git(recorded, "commit", "-q", "-m", "two")
        root = tmp_path / "clone"
        git(tmp_path, "clone", "-q", "--depth", "1", f"file://{recorded}", str(root))
        (root / ".testmap").mkdir(exist_ok=True)
        (root / ".testmap/testmap.db").write_bytes((recorded / ".testmap/testmap.db").read_bytes())
    result = affected_base(testmap_bin, root, base)
    assert result["selected"] == result["tests"] == len(ALL)
    assert expected in result["run_all"], result["run_all"]


def test_base_sees_a_submodule_change(committed, testmap_bin, tmp_path) -> None:
    lib = tmp_path / "lib"
    lib.mkdir()
    (lib / "vendored.py").write_text("def f():\n    return 1\n")
    git(lib, "init", "-q", "-b", "main")
    git(lib, "add", "-A")
    git(lib, "commit", "-q", "-m", "lib")
    git(committed, "submodule", "-q", "add", str(lib), "vendor")
    (committed / "tests/test_vendor.py").write_text(
        "import sys\nsys.path.insert(0, 'vendor')\nimport vendored\n\n\n"
        "def test_vendor():\n    assert vendored.f() == 1\n"
    )
    git(committed, "add", "-A")
    git(committed, "commit", "-q", "-m", "submodule")
    # Changed inside the submodule, then recorded: only --base sees the change.
    (committed / "vendor/vendored.py").write_text("def f():\n    return 1  # changed\n\n")
    edit(committed, "vendor/vendored.py", "return 1  # changed", "return 1 + 0")
    assert pytest_run(committed, "--testmap-deps", "-p", "no:xdist").returncode == 0
    assert selected(testmap_bin, committed) == set()
    got = {
        t["id"]: t["reasons"] for t in affected_base(testmap_bin, committed, "HEAD")["selection"]
    }
    assert got == {"tests/test_vendor.py::test_vendor": ["vendor changed since HEAD"]}


def test_testmap_base_alone_is_a_usage_error(recorded) -> None:
    proc = pytest_run(recorded, "--testmap-base", "HEAD")
    assert proc.returncode == 4
    assert "--testmap-base needs --testmap-affected" in proc.stderr


def test_a_recording_split_over_machines_gathers_into_the_same_selection(
    recorded, testmap_bin, tmp_path
) -> None:
    """What CI does: each machine records its share, exports it, and one job imports all."""
    alone = recorded / ".testmap" / "testmap.db"
    exports = []
    for k, part in enumerate(["tests/test_calc.py", "tests/sub"]):
        machine = tmp_path / f"machine{k}"
        subprocess.run(["cp", "-a", str(recorded), str(machine)], check=True)
        shutil.rmtree(machine / ".testmap")
        assert pytest_run(machine, "--testmap-deps", "-p", "no:xdist", part).returncode == 0
        out = tmp_path / f"deps{k}.json"
        subprocess.run(
            [testmap_bin, "deps", "export", "--root", str(machine), "-o", str(out)], check=True
        )
        exports.append(str(out))
    gathered = tmp_path / "gathered"
    subprocess.run(["cp", "-a", str(recorded), str(gathered)], check=True)
    shutil.rmtree(gathered / ".testmap")
    proc = subprocess.run(
        [testmap_bin, "deps", "import", "--root", str(gathered), *exports],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stderr
    assert "6 tests imported" in proc.stderr and "1 tests imported" in proc.stderr
    assert alone.exists()
    for root in (recorded, gathered):
        edit(root, "pkg/calc.py", "return a + b", "return b + a")
        (root / "pkg/consts.py").write_text("LIMIT = 4\n")
    assert (
        selected(testmap_bin, gathered)
        == selected(testmap_bin, recorded)
        == {
            "tests/test_calc.py::test_add",
            "tests/test_calc.py::test_twice",
            "tests/test_calc.py::test_limit",
        }
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("{", "not JSON"),
        ('{"runs": []}', 'no "testmap_deps" format number'),
        ('{"testmap_deps": 99, "runs": []}', "format 99 is not this testmap's"),
        (
            '{"testmap_deps": 1, "runs": [{"modules": {"a.py": 5}, "watched": {}, "tests": []}]}',
            'runs[0]: "modules" and "watched" must map paths to 16 hex digits',
        ),
        (
            '{"testmap_deps": 1, "runs": [{"modules": {}, "watched": {}, "tests": '
            '[{"nodeid": "t.py::x", "outcome": "passed", "units": [["a.py", "f"]]}]}]}',
            "runs[0].tests[0] (t.py::x): a unit is [file, name, 16 hex digits]",
        ),
    ],
)
def test_a_bad_deps_file_is_one_line_and_imports_nothing(
    recorded, testmap_bin, tmp_path, text, expected
) -> None:
    before = (recorded / ".testmap" / "testmap.db").read_bytes()
    bad = tmp_path / "bad.json"
    bad.write_text(text)
    proc = subprocess.run(
        [testmap_bin, "deps", "import", "--root", str(recorded), str(bad)],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1 and expected in proc.stderr, proc.stderr
    assert (recorded / ".testmap" / "testmap.db").read_bytes() == before


def test_a_module_imported_in_a_function_reaches_only_that_functions_callers(
    recorded, testmap_bin
) -> None:
    files = {
        "lazy/__init__.py": "",
        "lazy/heavy.py": "REGISTRY = {}\nREGISTRY.update(a=1)\n",
        "lazy/api.py": (
            "def light():\n    return 1\n\n\n"
            "def heavy():\n    from lazy import heavy\n\n    return heavy.REGISTRY['a']\n"
        ),
        "tests/test_lazy.py": (
            "from lazy import api\n\n\n"
            "def test_light():\n    assert api.light() == 1\n\n\n"
            "def test_heavy():\n    assert api.heavy() == 1\n"
        ),
    }
    record_with(recorded, files)
    edit(recorded, "lazy/heavy.py", "REGISTRY.update(a=1)", "REGISTRY.update(a=2)")
    got = reasons(testmap_bin, recorded)
    # test_heavy ran the import itself; test_light ran api.py but not that function.
    assert got == {
        "tests/test_lazy.py::test_heavy": [
            "lazy/api.py imports lazy/heavy.py, whose module-level code changed",
            "the module-level code of lazy/heavy.py changed",
        ]
    }


CACHED = {
    "lex/__init__.py": "",
    # jinja2's shape: lexers built once per setting and kept in a module-level cache.
    "lex/lexer.py": (
        "def compile_rules(prefix):\n    return [prefix + '!']\n\n\n"
        "class Lexer:\n"
        "    def __init__(self, prefix):\n        self.rules = compile_rules(prefix)\n\n"
        "    def tokenize(self, text):\n        return [r + text for r in self.rules]\n\n"
        "    def count(self):\n        return len(self.rules)\n\n\n"
        "_cache = {}\n\n\n"
        "def get_lexer(prefix):\n"
        "    if prefix not in _cache:\n        _cache[prefix] = Lexer(prefix)\n"
        "    return _cache[prefix]\n"
    ),
    "tests/test_lex_1.py": (
        "from lex.lexer import get_lexer\n\n\n"
        "def test_builds_it():\n    assert get_lexer('x').tokenize('a') == ['x!a']\n"
    ),
    "tests/test_lex_2.py": (
        "from lex.lexer import Lexer, get_lexer\n\n\n"
        "def test_takes_it_from_the_cache():\n"
        "    assert get_lexer('x').tokenize('b') == ['x!b']\n\n\n"
        "def test_builds_its_own():\n    assert Lexer('y').tokenize('c') == ['y!c']\n"
    ),
}


def test_an_object_an_earlier_test_built_selects_the_tests_that_reused_it(
    recorded, testmap_bin
) -> None:
    record_with(recorded, CACHED)
    reused = "tests/test_lex_2.py::test_takes_it_from_the_cache"
    # The cached lexer's rules come from compile_rules, which only the test that filled the
    # cache ran; the full suite fails in all three tests.
    edit(recorded, "lex/lexer.py", "return [prefix + '!']", "return [prefix + '?']")
    got = reasons(testmap_bin, recorded)
    assert set(got) == {
        "tests/test_lex_1.py::test_builds_it",
        reused,
        "tests/test_lex_2.py::test_builds_its_own",
    }
    assert got[reused] == [
        "lex/lexer.py::compile_rules changed, and it used a lex/lexer.py::Lexer it did not "
        "build (kept by an earlier test or at import)"
    ]
    full = pytest_run(recorded, "-p", "no:xdist", "tests/test_lex_1.py", "tests/test_lex_2.py")
    assert "3 failed" in full.stdout, full.stdout
    # A method no test ran changes nothing an instance holds: nothing is selected.
    edit(recorded, "lex/lexer.py", "return [prefix + '?']", "return [prefix + '!']")
    edit(recorded, "lex/lexer.py", "return len(self.rules)", "return len(self.rules) + 0")
    assert selected(testmap_bin, recorded) == set()


SHARED = {
    "memo/__init__.py": "",
    # jinja2's LRUCache: one built at import (the lexers' cache), others in each test.
    "memo/cache.py": (
        "class Cache:\n"
        "    def __init__(self):\n        self.d = {}\n\n"
        "    def get(self, k):\n        return self.d.get(k)\n\n"
        "    def remember(self, k, v):\n        self.d[k] = v\n\n\n"
        "SHARED = Cache()\n\n\n"
        "def lookup(k):\n"
        "    if SHARED.get(k) is None:\n        SHARED.remember(k, k * 2)\n"
        "    return SHARED.get(k)\n"
    ),
    "tests/test_memo.py": (
        "from memo.cache import Cache, lookup\n\n\n"
        "def test_fills_it():\n    assert lookup(2) == 4\n\n\n"
        "def test_builds_one_and_reads_the_shared_one():\n"
        "    assert Cache().get(2) is None\n    assert lookup(2) == 4\n"
    ),
}


def test_a_module_level_instance_selects_a_test_that_built_its_own_too(
    recorded, testmap_bin
) -> None:
    record_with(recorded, SHARED)
    both = "tests/test_memo.py::test_builds_one_and_reads_the_shared_one"
    # The second test ran Cache.__init__ (its own cache) but read SHARED, which the first
    # filled through `remember`: it fails after the edit, without having run `remember`.
    edit(recorded, "memo/cache.py", "self.d[k] = v", "self.d[k] = v + 1")
    got = reasons(testmap_bin, recorded)
    assert set(got) == {"tests/test_memo.py::test_fills_it", both}
    assert got[both] == [
        "memo/cache.py::Cache.remember changed, and it used a memo/cache.py::Cache, of which "
        "one was built at import (a module-level instance it may have used, besides its own)"
    ]
    full = pytest_run(recorded, "-p", "no:xdist", "tests/test_memo.py")
    assert "2 failed" in full.stdout, full.stdout


def test_a_sibling_subclass_change_skips_tests_that_met_only_another(recorded, testmap_bin) -> None:
    edit(
        recorded,
        "pkg/calc.py",
        "class Square(Shape):\n",
        "class Circle(Shape):\n    sides = 0\n\n\nclass Square(Shape):\n",
    )
    assert pytest_run(recorded, "--testmap-deps", "-p", "no:xdist").returncode == 0
    # test_area ran Shape.area on a Square: on 3.11 the recording knows it met Square, not
    # Circle. The 3.12+ tracer does not record receivers yet: a base class's users run.
    edit(recorded, "pkg/calc.py", "    sides = 0\n", "    sides = 1\n")
    met_only = sys.version_info < (3, 12)
    assert selected(testmap_bin, recorded) == (
        set() if met_only else {"tests/test_calc.py::test_area"}  # it ran Shape.area
    )
    # A change to Square reaches it, though it ran no method of Square's own body.
    edit(recorded, "pkg/calc.py", "class Square(Shape):\n", "class Square(Shape):\n    sides = 5\n")
    got = reasons(testmap_bin, recorded)
    assert "tests/test_calc.py::test_area" in got
    if met_only:
        assert got["tests/test_calc.py::test_area"] == ["pkg/calc.py::Square changed"]
    assert "tests/test_calc.py::test_add" not in got


def test_a_constant_read_by_a_class_body_reaches_the_tests_that_met_the_class(
    recorded, testmap_bin
) -> None:
    files = {
        "fees/__init__.py": "",
        "fees/rates.py": (
            "FEE = 3\n\n\nclass Fee:\n    amount = FEE\n\n    def total(self, n):\n"
            "        return self.amount * n\n\n\n"
            "class Other:\n    def one(self):\n        return 1\n"
        ),
        "tests/test_fees.py": (
            "from fees import rates\n\n\n"
            "def test_total():\n    assert rates.Fee().total(2) == 6\n\n\n"
            "def test_other():\n    assert rates.Other().one() == 1\n"
        ),
    }
    record_with(recorded, files)
    edit(recorded, "fees/rates.py", "FEE = 3", "FEE = 4")
    got = reasons(testmap_bin, recorded)
    if sys.version_info < (3, 12):  # the recording says which classes each test met
        assert got == {
            "tests/test_fees.py::test_total": [
                "FEE in fees/rates.py changed, and the body of Fee reads it"
            ]
        }
    else:  # it does not: the whole module counts as changed
        assert set(got) == {"tests/test_fees.py::test_total", "tests/test_fees.py::test_other"}
    proc = pytest_run(recorded, "tests/test_fees.py", "--testmap-affected")
    assert "1 failed" in proc.stdout and "test_total" in proc.stdout, proc.stdout


PLAIN = ["-q", "-p", "no:cacheprovider", "-p", "no:xdist"]


def record_deps(testmap_bin: str, root: Path, *pytest_args: str, script: str = "") -> None:
    """`testmap record --deps -- pytest ...` (or `-- python SCRIPT`) in root; it must pass."""
    command = [sys.executable, script] if script else [sys.executable, "-m", "pytest"]
    proc = subprocess.run(
        [testmap_bin, "record", "--deps", "--", *command, *pytest_args],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=300,
        env=clean_env(),
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_a_data_file_read_by_c_code_is_seen_under_testmap_record(recorded, testmap_bin) -> None:
    (recorded / "pkg/table.csv").write_text("a,1\n")
    (recorded / "tests/test_c.py").write_text(
        "import ctypes\n\n"
        "libc = ctypes.CDLL(None)\n"
        "libc.fopen.restype = ctypes.c_void_p\n"
        "libc.fopen.argtypes = [ctypes.c_char_p, ctypes.c_char_p]\n"
        "libc.fclose.argtypes = [ctypes.c_void_p]\n\n\n"
        "def test_c_reads():\n"
        "    f = libc.fopen(b'pkg/table.csv', b'r')  # C code: no Python audit event\n"
        "    assert f\n    libc.fclose(f)\n"
    )
    record_deps(testmap_bin, recorded, *PLAIN)
    assert selected(testmap_bin, recorded) == set()
    (recorded / "pkg/table.csv").write_text("a,2\n")
    got = reasons(testmap_bin, recorded)
    assert got == {"tests/test_c.py::test_c_reads": ["pkg/table.csv changed"]}


def test_a_test_whose_own_file_changed_runs(recorded, testmap_bin) -> None:
    edit(
        recorded,
        "tests/test_calc.py",
        "def test_mul():",
        "def test_new_helper():\n    pass\n\n\ndef test_mul():",
    )
    got = reasons(testmap_bin, recorded)
    calc = {i for i in ALL if i.startswith("tests/test_calc.py")}
    assert set(got) == calc | {"tests/test_calc.py::test_new_helper"}
    assert got["tests/test_calc.py::test_add"] == ["its own file tests/test_calc.py changed"]
    proc = pytest_run(recorded, "--testmap-affected", "-vv")  # -q -vv: verbose
    assert "testmap: tests/test_calc.py::test_add: its own file tests/test_calc.py changed" in (
        proc.stdout
    )
    assert "running 7 of 8 tests" in proc.stdout, proc.stdout


def test_a_pytest_a_test_starts_keeps_its_own_numbers(recorded, testmap_bin) -> None:
    # Under `testmap record --deps` a pytest that a test starts appends to the outer one's
    # worker file, numbering its code from 0 too. The two runs are shaped alike, so the
    # inner run gives `mul` the number the outer one gave `add`: the outer test after it
    # must still depend on `add`.
    (recorded / "inner").mkdir()
    (recorded / "inner/__init__.py").write_text("")
    (recorded / "inner/test_inner.py").write_text(
        "from pkg import calc\n\n\ndef test_a():\n    assert calc.mul(2, 2) == 4\n"
    )
    (recorded / "tests/test_outer.py").write_text(
        "import subprocess\nimport sys\n\nfrom pkg import calc\n\n\n"
        "def test_a():\n    assert calc.add(1, 1) == 2\n\n\n"
        "def test_b():\n"
        "    cmd = [sys.executable, '-m', 'pytest', '-q', '-p', 'no:cacheprovider',\n"
        "           '-p', 'no:xdist', 'inner/test_inner.py']\n"
        "    assert subprocess.run(cmd).returncode == 0\n\n\n"
        "def test_c():\n    assert calc.add(2, 2) == 4\n"
    )
    record_deps(testmap_bin, recorded, *PLAIN, "tests/test_outer.py")
    edit(recorded, "pkg/calc.py", "return a + b", "return b + a")
    picked = selected(testmap_bin, recorded)
    assert {"tests/test_outer.py::test_a", "tests/test_outer.py::test_c"} <= picked
    assert "inner/test_inner.py::test_a" not in picked


NESTED = (
    "import os\nimport subprocess\nimport sys\n\n"
    "ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))\n\n\n"
    "def test_inline(pytester):\n"
    "    pytester.syspathinsert(ROOT)\n"
    "    pytester.makepyfile(test_in='from pkg import calc\\n\\n\\n"
    "def test_in():\\n    assert calc.mul(2, 3) == 6\\n')\n"
    "    pytester.runpytest('-p', 'no:cacheprovider').assert_outcomes(passed=1)\n\n\n"
    "def test_child(tmp_path):\n"
    "    (tmp_path / 'test_out.py').write_text('from pkg import calc\\n\\n\\n"
    "def test_out():\\n    assert calc.twice(2) == 4\\n')\n"
    "    env = {**os.environ, 'PYTHONPATH': ROOT}\n"
    "    cmd = [sys.executable, '-m', 'pytest', '-q', '-p', 'no:cacheprovider', '-p', 'no:xdist',\n"
    "           str(tmp_path)]\n"
    "    proc = subprocess.run(cmd, env=env, capture_output=True, text=True)\n"
    "    assert proc.returncode == 0, proc.stdout\n"
    # testmap-deps.pth imported testmap before that pytest could mark it for rewriting:
    # its warning changed the output that plugins' suites match (pytest-mock's).
    "    assert 'cannot be rewritten' not in proc.stdout, proc.stdout\n\n\n"
    "def test_after():\n    from pkg import calc\n\n    assert calc.add(1, 1) == 2\n"
)


@pytest.mark.parametrize("how", ["pytest --testmap-deps", "testmap record --deps"])
def test_a_pytest_a_test_starts_counts_for_that_test(recorded, testmap_bin, how) -> None:
    # A plugin's suite runs pytest inside its tests (pytester, in this process or a new
    # one). That pytest's tests are not the suite's, and what it runs is the starting
    # test's: before, the inner run stopped the outer test's tracer (so `test_inline`
    # depended on nothing of pkg) and, under `testmap record`, recorded its own tests.
    (recorded / "tests/test_nested.py").write_text(NESTED)
    args = [*PLAIN, "-p", "pytester"]
    if how.startswith("pytest"):
        proc = pytest_run(recorded, "--testmap-deps", *args[3:])
        assert proc.returncode == 0, proc.stdout + proc.stderr
    else:
        record_deps(testmap_bin, recorded, *args)
    nested = {f"tests/test_nested.py::test_{n}" for n in ("inline", "child", "after")}
    export = subprocess.run(
        [testmap_bin, "deps", "export"], cwd=recorded, capture_output=True, text=True
    )
    assert export.returncode == 0, export.stderr
    ids = {t["nodeid"] for r in json.loads(export.stdout)["runs"] for t in r["tests"]}
    assert ids == ALL | nested  # not test_in, not test_out
    edit(recorded, "pkg/calc.py", "return a * b", "return b * a")
    assert selected(testmap_bin, recorded) == {
        "tests/test_calc.py::test_mul",
        "tests/test_nested.py::test_inline",
    }
    edit(recorded, "pkg/calc.py", "return b * a", "return a * b")
    edit(recorded, "pkg/calc.py", "return add(a, a)", "return add(a, a) * 1")
    assert selected(testmap_bin, recorded) == {
        "tests/test_calc.py::test_twice",
        "tests/test_nested.py::test_child",
    }


def test_pytests_one_after_another_under_testmap_record_each_record(recorded, testmap_bin) -> None:
    # A CI script that runs pytest in-process, then in a new process: the second is not
    # started by a test of the first (which must give up the run when it ends).
    (recorded / "run.py").write_text(
        "import subprocess\nimport sys\n\nimport pytest\n\n"
        "assert pytest.main(['-q', '-p', 'no:cacheprovider', '-p', 'no:xdist',\n"
        "                    'tests/test_calc.py']) == 0\n"
        "sys.exit(subprocess.run([sys.executable, '-m', 'pytest', '-q', '-p', 'no:cacheprovider',\n"
        "                         '-p', 'no:xdist', 'tests/sub']).returncode)\n"
    )
    shutil.rmtree(recorded / ".testmap")
    record_deps(testmap_bin, recorded, script="run.py")
    assert affected(testmap_bin, recorded)["run_all"] is None  # a recording exists
    edit(recorded, "tests/sub/conftest.py", "return 1", "return 2")
    assert selected(testmap_bin, recorded) == {"tests/sub/test_sub.py::test_one"}
    export = subprocess.run([testmap_bin, "deps", "export"], cwd=recorded, capture_output=True)
    ids = {t["nodeid"] for r in json.loads(export.stdout)["runs"] for t in r["tests"]}
    assert ids == ALL


def test_a_startup_hook_of_a_plugin_loaded_before_the_tracer_reaches_its_tests(
    recorded, testmap_bin
) -> None:
    # A repository's own pytest plugin, loaded with -p (or an entry point, PYTEST_PLUGINS)
    # before the conftests: its pytest_addoption ran before the tracer started, and the
    # ini default it sets is what a test reads through pytest alone.
    (recorded / "pkg/plug.py").write_text(
        "def pytest_addoption(parser):\n    parser.addini('greeting', 'a greeting', default='hi')\n"
    )
    (recorded / "tests/test_greet.py").write_text(
        "def test_greeting(request):\n    assert request.config.getini('greeting') == 'hi'\n"
    )
    proc = pytest_run(recorded, "--testmap-deps", "-p", "no:xdist", "-p", "pkg.plug")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    edit(recorded, "pkg/plug.py", "default='hi'", "default='hello'")
    got = reasons(testmap_bin, recorded)
    assert got["tests/test_greet.py::test_greeting"] == [
        "pkg/plug.py::pytest_addoption, a pytest hook that ran outside every test, changed: it "
        "can change every test"
    ]
    assert set(got) == ALL | {"tests/test_greet.py::test_greeting"}
    failing = pytest_run(recorded, "-p", "no:xdist", "-p", "pkg.plug", "tests/test_greet.py")
    assert "1 failed" in failing.stdout, failing.stdout
