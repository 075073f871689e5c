"""testmap finds the project as pytest does: from any directory, with pytest's own options.

Each test compares testmap's test ids with what `pytest --collect-only -q` prints for the
same tree, run from the root and from a subdirectory: the rootdir, the ids, the store's
place, addopts' --ignore/--ignore-glob/--deselect and norecursedirs.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from collection import clean_env, collected_ids, run_classify

REPO = Path(__file__).resolve().parent.parent
ids_of_pytest = collected_ids


def ids_of_testmap(testmap_bin: str, cwd: Path, *args: str) -> set[str]:
    proc = run_classify(testmap_bin, cwd, "--json", *args)
    assert proc.returncode == 0, proc.stderr
    return {t["id"] for t in json.loads(proc.stdout)["tests"]}


LAYERED = {
    "pyproject.toml": "[tool.pytest.ini_options]\ntestpaths = ['tests']\nmarkers = ['cache: c']\n"
    "[tool.testmap.services.cache]\nports = [6399]\nmarkers = ['cache']\n",
    "src/app/__init__.py": "",
    "tests/test_top.py": "def test_top():\n    pass\n",
    "tests/unit/test_unit.py": "import pytest\n\n\n@pytest.mark.cache\ndef test_cached():\n"
    "    pass\n\n\nclass TestUnit:\n    def test_a(self):\n        pass\n",
    "tests/unit/deeper/test_deep.py": "def test_deep():\n    pass\n",
    "tests/other/test_other.py": "def test_other():\n    pass\n",
}


def test_run_from_a_subdirectory_the_project_and_its_config_are_the_roots(
    testmap_bin: str, tmp_path: Path, make_tree: Callable[..., Path]
) -> None:
    root = make_tree(LAYERED)
    sub = root / "tests" / "unit"
    ids = ids_of_testmap(testmap_bin, sub)
    assert ids == ids_of_pytest(sub)
    assert ids == {
        "tests/unit/test_unit.py::test_cached",
        "tests/unit/test_unit.py::TestUnit::test_a",
        "tests/unit/deeper/test_deep.py::test_deep",
    }
    # The store is the root's: no stray .testmap/ where the command ran.
    assert (root / ".testmap" / "testmap.db").is_file()
    assert not (sub / ".testmap").exists()
    # The config is the root's too: the marker still names the service.
    proc = run_classify(testmap_bin, sub, "--explain", "tests/unit/test_unit.py::test_cached")
    assert proc.returncode == 0, proc.stderr
    assert "cache" in proc.stdout


def test_path_arguments_narrow_the_tests_as_they_do_for_pytest(
    testmap_bin: str, tmp_path: Path, make_tree: Callable[..., Path]
) -> None:
    root = make_tree(LAYERED)
    for args in (
        ("tests/unit/deeper",),
        ("tests/other/test_other.py", "tests/unit"),
        ("tests/unit/test_unit.py::TestUnit",),
    ):
        assert ids_of_testmap(testmap_bin, root, *args) == ids_of_pytest(root, *args), args
    # From elsewhere, a path into the project finds the same root.
    assert ids_of_testmap(testmap_bin, tmp_path, "repo/tests/other") == {
        "tests/other/test_other.py::test_other"
    }
    missing = run_classify(testmap_bin, root, "tests/nope")
    assert missing.returncode == 2
    assert missing.stderr.strip() == "testmap classify: tests/nope: no such file or directory"


def test_addopts_ignore_deselect_and_norecursedirs_are_honoured(
    testmap_bin: str, tmp_path: Path, make_tree: Callable[..., Path]
) -> None:
    root = make_tree(
        {
            "setup.cfg": "[tool:pytest]\n"
            "addopts = --ignore=tests/old --ignore-glob=*/gen/*_y.py\n"
            "    --deselect tests/test_keep.py::test_flaky -p no:randomly\n"
            "norecursedirs = fixtures_data .*\n",
            "tests/test_keep.py": "def test_kept():\n    pass\n\n\ndef test_flaky():\n    pass\n",
            "tests/old/test_old.py": "def test_old():\n    pass\n",
            "tests/gen/test_gen_x.py": "def test_gen():\n    pass\n",
            "tests/gen/test_gen_y.py": "def test_y():\n    pass\n",
            "tests/fixtures_data/test_data.py": "def test_data():\n    pass\n",
            "build/test_built.py": "def test_built():\n    pass\n",
            "env/pyvenv.cfg": "home = /usr/bin\n",
            "env/lib/test_in_venv.py": "def test_venv():\n    pass\n",
        },
    )
    ids = ids_of_testmap(testmap_bin, root)
    assert ids == ids_of_pytest(root)
    # norecursedirs replaces pytest's defaults: build/ is collected here.
    assert ids == {
        "tests/test_keep.py::test_kept",
        "tests/gen/test_gen_x.py::test_gen",
        "build/test_built.py::test_built",
    }
    # pytest resolves addopts' --ignore paths against the directory it runs in, so `cd tests
    # && pytest` would collect tests/old; testmap resolves them against the rootdir, the
    # same from everywhere, as `pytest tests` run from the root does.
    assert ids_of_testmap(testmap_bin, root / "tests") == ids_of_pytest(root, "tests")


def test_pytest_addopts_from_the_environment_count_too(
    testmap_bin: str, tmp_path: Path, make_tree: Callable[..., Path]
) -> None:
    root = make_tree(LAYERED)
    env = {**clean_env(), "PYTEST_ADDOPTS": "--ignore=tests/unit"}
    proc = run_classify(testmap_bin, root, "--json", "--no-store", env=env)
    assert proc.returncode == 0, proc.stderr
    ids = {t["id"] for t in json.loads(proc.stdout)["tests"]}
    assert ids == {"tests/test_top.py::test_top", "tests/other/test_other.py::test_other"}


def test_the_example_matches_pytest_from_the_root_and_from_a_subdirectory(
    testmap_bin: str, tmp_path: Path, make_tree: Callable[..., Path]
) -> None:
    shop = tmp_path / "shop"
    shutil.copytree(
        REPO / "examples" / "shop",
        shop,
        ignore=shutil.ignore_patterns("__pycache__", ".testmap"),
    )
    assert ids_of_testmap(testmap_bin, shop) == ids_of_pytest(shop)
    sub = shop / "tests" / "orders"
    assert ids_of_testmap(testmap_bin, sub) == ids_of_pytest(sub)
    assert os.listdir(sub).count(".testmap") == 0


def test_collect_ignore_lists_in_conftest_files_are_honoured(
    testmap_bin: str, make_tree: Callable[..., Path]
) -> None:
    root = make_tree(
        {
            "pytest.ini": "[pytest]\n",
            "conftest.py": 'collect_ignore = ["setup.py", "tests/legacy"]\n',
            "setup.py": "",
            "tests/conftest.py": "collect_ignore_glob = ['*_old.py']\n",
            "tests/test_new.py": "def test_new():\n    pass\n",
            "tests/test_thing_old.py": "def test_old():\n    pass\n",
            "tests/legacy/test_legacy.py": "def test_legacy():\n    pass\n",
            "other/test_thing_old.py": "def test_other_old():\n    pass\n",
        }
    )
    ids = ids_of_testmap(testmap_bin, root)
    assert ids == ids_of_pytest(root)
    # The glob applies below the conftest that lists it only.
    assert ids == {"tests/test_new.py::test_new", "other/test_thing_old.py::test_other_old"}


def test_paths_ending_in_a_slash_or_dot_and_paths_outside_testpaths(
    testmap_bin: str, make_tree: Callable[..., Path]
) -> None:
    root = make_tree({**LAYERED, "scripts/test_tool.py": "def test_tool():\n    pass\n"})
    for args in (("tests/unit/",), ("./tests/other/../unit",)):
        assert ids_of_testmap(testmap_bin, root, *args) == ids_of_pytest(root, *args), args
    assert ids_of_testmap(testmap_bin, root / "tests", ".") == ids_of_pytest(root / "tests", ".")
    # pytest collects what a path names even outside testpaths; so does testmap.
    assert ids_of_testmap(testmap_bin, root, "scripts") == {"scripts/test_tool.py::test_tool"}
    assert ids_of_pytest(root, "scripts") == {"scripts/test_tool.py::test_tool"}
    assert ids_of_testmap(testmap_bin, root / "scripts") == {"scripts/test_tool.py::test_tool"}
    # The whole project, however the root is spelled.
    assert ids_of_testmap(testmap_bin, root, "--root", ".") == ids_of_pytest(root)


MONOREPO = {
    "pyproject.toml": "[tool.testmap]\nprojects = ['services/billing']\n"
    "[tool.testmap.services.cache]\nports = [6399]\nmarkers = ['cache']\n",
    "services/billing/pytest.ini": "[pytest]\nmarkers =\n    cache: c\n    queue: q\n",
    "services/billing/pyproject.toml": "[tool.testmap.services.queue]\nports = [5673]\n"
    "markers = ['queue']\n",
    "services/billing/tests/test_bill.py": "import pytest\n\n\n@pytest.mark.cache\n"
    "def test_cached():\n    pass\n\n\n@pytest.mark.queue\ndef test_queued():\n    pass\n",
    "services/other/pytest.ini": "[pytest]\nmarkers =\n    cache: c\n",
    "services/other/tests/test_o.py": "import pytest\n\n\n@pytest.mark.cache\n"
    "def test_cached():\n    pass\n",
}


def test_a_monorepo_project_extends_the_repositorys_config(
    testmap_bin: str, make_tree: Callable[..., Path]
) -> None:
    root = make_tree(MONOREPO)
    billing = root / "services" / "billing"
    proc = run_classify(testmap_bin, billing / "tests", "--json", "--no-store")
    assert proc.returncode == 0, proc.stderr
    services = {t["id"]: t["services"] for t in json.loads(proc.stdout)["tests"]}
    # Ids as pytest spells them in the project; the repository's service and its own.
    assert services == {
        "tests/test_bill.py::test_cached": ["cache"],
        "tests/test_bill.py::test_queued": ["queue"],
    }
    assert set(services) == ids_of_pytest(billing)
    # A project the repository does not list inherits nothing.
    other = run_classify(testmap_bin, root, "--json", "--no-store", "services/other")
    assert other.returncode == 0, other.stderr
    assert [t["services"] for t in json.loads(other.stdout)["tests"]] == [[]]


def test_a_projects_entry_that_is_no_directory_is_a_config_error(
    testmap_bin: str, make_tree: Callable[..., Path]
) -> None:
    root = make_tree({**MONOREPO, "pyproject.toml": "[tool.testmap]\nprojects = ['nope']\n"})
    proc = run_classify(testmap_bin, root, "--strict", "--no-store")
    assert proc.returncode == 1
    assert "tool.testmap.projects" in proc.stderr and "'nope' is not a directory" in proc.stderr


def test_confcutdir_in_addopts_keeps_conftests_above_it_unread(
    testmap_bin: str, make_tree: Callable[..., Path]
) -> None:
    files = {
        "pytest.ini": "[pytest]\n",
        "conftest.py": "collect_ignore = ['tests/test_generated.py']\n",
        "tests/test_generated.py": "def test_generated():\n    pass\n",
        "tests/test_plain.py": "def test_plain():\n    pass\n",
    }
    root = make_tree(files)
    assert (
        ids_of_testmap(testmap_bin, root)
        == ids_of_pytest(root)
        == {"tests/test_plain.py::test_plain"}
    )
    # With the cut at tests/, pytest never loads the root conftest.py and its ignore list.
    (root / "pytest.ini").write_text("[pytest]\naddopts = --confcutdir=tests\n")
    assert (
        ids_of_testmap(testmap_bin, root)
        == ids_of_pytest(root)
        == {
            "tests/test_plain.py::test_plain",
            "tests/test_generated.py::test_generated",
        }
    )


def test_plugin_modules_named_with_p_give_their_fixtures_and_no_blocks_them(
    testmap_bin: str, make_tree: Callable[..., Path]
) -> None:
    plugin = (
        "import pytest\n\n\n@pytest.fixture\ndef kafka_producer():\n    return object()\n\n\n"
        "@pytest.fixture\ndef topic(kafka_producer):\n    return 'orders'\n"
    )
    root = make_tree(
        {
            "pytest.ini": "[pytest]\npythonpath = .\naddopts = -p support.kafka_fixtures\n",
            "pyproject.toml": "[tool.testmap.services.kafka]\nports = [9092]\n"
            "fixtures = ['kafka_producer']\n",
            "support/__init__.py": "",
            "support/kafka_fixtures.py": plugin,
            "tests/test_orders.py": "def test_publish(topic):\n    assert topic == 'orders'\n",
        }
    )

    def services() -> list[str]:
        proc = run_classify(testmap_bin, root, "--json", "--no-store")
        assert proc.returncode == 0, proc.stderr
        [test] = json.loads(proc.stdout)["tests"]
        return test["services"]

    # The test passes under pytest, so the plugin's fixtures are what it runs.
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"],
        cwd=root,
        capture_output=True,
        text=True,
        env=clean_env(),
        timeout=120,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    assert services() == ["kafka"]
    (root / "pytest.ini").write_text(
        "[pytest]\npythonpath = .\n"
        "addopts = -p support.kafka_fixtures -p no:support.kafka_fixtures\n"
    )
    assert services() == []


def test_pyargs_testpaths_name_packages(testmap_bin: str, make_tree: Callable[..., Path]) -> None:
    root = make_tree(
        {
            "pytest.ini": "[pytest]\naddopts = --pyargs\ntestpaths = shop.tests\n",
            "src/shop/__init__.py": "",
            "src/shop/tests/__init__.py": "",
            "src/shop/tests/test_cart.py": "def test_cart():\n    pass\n",
            "other/test_elsewhere.py": "def test_elsewhere():\n    pass\n",
        }
    )
    env = {**clean_env(), "PYTHONPATH": str(root / "src")}
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider"],
        cwd=root,
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    pytest_ids = {line for line in proc.stdout.splitlines() if "::" in line}
    assert (
        ids_of_testmap(testmap_bin, root)
        == pytest_ids
        == {"src/shop/tests/test_cart.py::test_cart"}
    )


def test_same_named_test_files_without_packages_are_reported_as_pytest_fails_on_them(
    testmap_bin: str, make_tree: Callable[..., Path]
) -> None:
    root = make_tree(
        {
            "pytest.ini": "[pytest]\n",
            "tests/a/test_x.py": "def test_1():\n    pass\n",
            "tests/b/test_x.py": "def test_2():\n    pass\n",
        }
    )
    proc = run_classify(testmap_bin, root, "--no-store", "--strict")
    assert proc.returncode == 1
    assert "tests/b/test_x.py: pytest cannot import it beside tests/a/test_x.py" in proc.stderr
    # With importlib, pytest imports both, and so there is nothing to say.
    (root / "pytest.ini").write_text("[pytest]\naddopts = --import-mode=importlib\n")
    assert ids_of_pytest(root) == ids_of_testmap(testmap_bin, root, "--strict")
