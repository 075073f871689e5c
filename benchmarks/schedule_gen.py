"""The generated suite of benchmarks/schedule: files of 3 to 25 tests whose durations spread
as a real suite's do (most tests a few milliseconds, a few seconds long), a third of the files
behind a module-scoped fixture of 0.3 to 1.5 s, a fifth with test classes behind a
class-scoped one. Tests sleep, so the workers do not compete for the machine's cores."""

from __future__ import annotations

import random
from pathlib import Path


def generate(root: Path, files: int, seed: int = 7) -> int:
    rng = random.Random(seed)
    tests = root / "tests"
    tests.mkdir(parents=True)
    (root / "pyproject.toml").write_text('[tool.pytest.ini_options]\ntestpaths = ["tests"]\n')
    count = 0
    for i in range(files):
        n = rng.randint(3, 25)
        durations = [min(rng.lognormvariate(-3.5, 1.4), 3.0) for _ in range(n)]
        module = rng.random() < 1 / 3
        classes = rng.random() < 1 / 5
        lines = ["import time", "", "import pytest", ""]
        fixture = ""
        if module:
            lines += [
                '@pytest.fixture(scope="module")',
                "def server():",
                f"    time.sleep({rng.uniform(0.3, 1.5):.3f})",
                "    yield",
                "",
            ]
            fixture = "server"
        body = []
        for k, d in enumerate(durations):
            args = ", ".join(a for a in ("self" if classes else "", fixture) if a)
            body.append(f"def test_{k}({args}):\n    time.sleep({d:.4f})\n")
        if classes:
            half = (n + 1) // 2
            for c, part in enumerate((body[:half], body[half:])):
                if not part:
                    continue
                lines += [
                    f"class TestGroup{c}:",
                    '    @pytest.fixture(scope="class", autouse=True)',
                    "    @classmethod",
                    "    def state(cls):",
                    f"        time.sleep({rng.uniform(0.2, 0.6):.3f})",
                    "        yield",
                    "",
                ]
                lines += ["    " + t.replace("\n    ", "\n        ") for t in part]
        else:
            lines += body
        (tests / f"test_f{i:03d}.py").write_text("\n".join(lines) + "\n")
        count += n
    return count
