"""`testmap report`: the HTML report opened in a real headless browser (Debian's Chromium
and its driver, through Selenium): the counts shown are the test map's, search filters,
sorting sorts, tiers expand to files, tests and reasons, the Gantt chart has one row per
machine, nothing logs an error, and a screenshot is not blank. Project strings made to break
out of their context show as text and run nothing. A generated 50,000-test suite stays
small and searchable. `--markdown` is the CI summary.

With TESTMAP_REPORT_SCREENSHOTS=DIR the example's sections are saved there as PNG files
(docs/report-*.png in the README come from that)."""

from __future__ import annotations

import json
import os
import shutil
import struct
import subprocess
import sys
import time
import zlib
from collections.abc import Iterator
from pathlib import Path

import pytest
from selenium import webdriver
from selenium.common.exceptions import NoAlertPresentException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By

HERE = Path(__file__).resolve().parent
SHOP = HERE.parent / "examples" / "shop"
SECTIONS = ("overview", "tiers", "plan", "durations", "disagreements")


def chromium() -> webdriver.Chrome:
    for exe in ("/usr/bin/chromium", "/usr/bin/chromedriver"):
        if not os.path.exists(exe):
            pytest.fail(f"{exe} is missing: apt-get install chromium chromium-driver (make deps)")
    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--window-size=1300,1800"):
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    return webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)


@pytest.fixture(scope="module")
def browser() -> Iterator[webdriver.Chrome]:
    driver = chromium()
    try:
        yield driver
    finally:
        driver.quit()


def run(cmd: list[str], cwd: Path, **kw) -> subprocess.CompletedProcess:
    p = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=300, **kw)
    assert p.returncode == 0, f"{cmd}: {p.stdout[-2000:]}{p.stderr[-2000:]}"
    return p


def open_report(driver: webdriver.Chrome, path: Path) -> None:
    driver.get(path.as_uri())
    deadline = time.monotonic() + 30
    while driver.execute_script("return document.body.dataset.ready") != "1":
        assert time.monotonic() < deadline, "the page's script never finished"
        time.sleep(0.05)


def errors(driver: webdriver.Chrome) -> list[str]:
    return [e["message"] for e in driver.get_log("browser") if e["level"] == "SEVERE"]


def png_pixels(png: bytes) -> set[bytes]:
    """The distinct pixels of a PNG (8-bit RGB or RGBA, as Chromium writes them)."""
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat, header = 8, b"", None
    while pos < len(png):
        length, kind = struct.unpack(">I4s", png[pos : pos + 8])
        chunk = png[pos + 8 : pos + 8 + length]
        if kind == b"IHDR":
            header = struct.unpack(">IIBB", chunk[:10])
        elif kind == b"IDAT":
            idat += chunk
        pos += 12 + length
    width, height, depth, color = header
    assert depth == 8 and color in (2, 6), header
    n = {2: 3, 6: 4}[color]
    raw = zlib.decompress(idat)
    stride = width * n
    prev = bytearray(stride)
    pixels: set[bytes] = set()
    for row in range(height):
        start = row * (stride + 1)
        kind, line = raw[start], bytearray(raw[start + 1 : start + 1 + stride])
        for i in range(stride):
            a = line[i - n] if i >= n else 0
            b = prev[i]
            c = prev[i - n] if i >= n else 0
            if kind == 1:
                line[i] = (line[i] + a) & 255
            elif kind == 2:
                line[i] = (line[i] + b) & 255
            elif kind == 3:
                line[i] = (line[i] + (a + b) // 2) & 255
            elif kind == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                pred = a if pa <= pb and pa <= pc else b if pb <= pc else c
                line[i] = (line[i] + pred) & 255
        pixels.update(bytes(line[i : i + n]) for i in range(0, stride, n))
        prev = line
    return pixels


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory, testmap_bin: str) -> dict:
    """The example shop with three recorded runs of its tests that need no service, its
    classification, plan and report."""
    root = tmp_path_factory.mktemp("report") / "shop"
    shutil.copytree(SHOP, root, ignore=shutil.ignore_patterns(".testmap", "__pycache__"))
    for _ in range(3):
        run(
            [
                sys.executable,
                "-m",
                "pytest",
                "-q",
                "-p",
                "no:cacheprovider",
                "--testmap-tier",
                "no_services",
                "--testmap-durations",
            ],
            root,
        )
    classified = json.loads(run([testmap_bin, "classify", "--json"], root).stdout)
    tiers = {t["tier"] for t in classified["tests"]}
    plan = json.loads(
        run(
            [testmap_bin, "plan", "--json", "--shards", str(len(tiers)), "--workers", "2"], root
        ).stdout
    )
    out = root / "report.html"
    run([testmap_bin, "report", "-o", str(out), "--workers", "2"], root)
    return {"root": root, "report": out, "classified": classified, "plan": plan}


def test_counts_tiers_and_plan_are_the_test_maps(browser: webdriver.Chrome, shop: dict) -> None:
    open_report(browser, shop["report"])
    tests = shop["classified"]["tests"]
    count = browser.find_element(By.CSS_SELECTOR, "#count-tests b").text
    assert int(count) == len(tests)
    per_tier: dict[str, int] = {}
    for t in tests:
        per_tier[t["tier"]] = per_tier.get(t["tier"], 0) + 1
    rows = browser.find_elements(By.CSS_SELECTOR, "#tier-table > table > tbody > tr")
    shown = {
        r.find_elements(By.TAG_NAME, "td")[0].text: int(r.find_elements(By.TAG_NAME, "td")[2].text)
        for r in rows
    }
    assert shown == per_tier
    machines = browser.find_elements(By.CSS_SELECTOR, "#plan svg g.machine")
    assert len(machines) == len(shop["plan"]["machines"])
    assert {m.get_attribute("data-machine") for m in machines} == {
        m["id"] for m in shop["plan"]["machines"]
    }
    recorded = browser.find_element(By.CSS_SELECTOR, "#count-runs b").text
    assert recorded == "3"
    assert errors(browser) == []


def test_search_filters_and_sorting_sorts(browser: webdriver.Chrome, shop: dict) -> None:
    open_report(browser, shop["report"])
    table = browser.find_element(By.CSS_SELECTOR, "#slow-tests table")
    ids = [t["id"] for t in shop["classified"]["tests"]]
    assert table.get_attribute("data-shown") == str(len(ids))
    word = "pricing"
    search = browser.find_element(By.ID, "search")
    search.send_keys(word)
    want = str(sum(1 for i in ids if word in i.lower()))
    deadline = time.monotonic() + 5
    while table.get_attribute("data-shown") != want:
        assert time.monotonic() < deadline, (table.get_attribute("data-shown"), want)
        time.sleep(0.05)
    cells = table.find_elements(By.CSS_SELECTOR, "tbody tr td.id")
    assert cells and all(word in c.text.lower() for c in cells)
    search.clear()
    search.send_keys(" ")  # an input event; the blank query shows everything again
    deadline = time.monotonic() + 5
    while table.get_attribute("data-shown") != str(len(ids)):
        assert time.monotonic() < deadline
        time.sleep(0.05)

    def seconds() -> list[float]:
        tds = table.find_elements(By.CSS_SELECTOR, "tbody tr td:nth-child(4)")
        return [float(td.text.split()[0]) for td in tds]

    header = table.find_elements(By.TAG_NAME, "th")[3]
    first = seconds()
    assert first == sorted(first, reverse=True)  # longest first by default
    header.click()
    again = seconds()
    assert again == sorted(again) and again != first
    assert errors(browser) == []


def test_a_tier_expands_to_files_tests_and_reasons(browser: webdriver.Chrome, shop: dict) -> None:
    open_report(browser, shop["report"])
    tier_rows = browser.find_elements(By.CSS_SELECTOR, "#tier-table > table > tbody > tr")
    target = next(
        r for r in tier_rows if r.find_elements(By.TAG_NAME, "td")[0].text == "postgres_only"
    )
    target.click()
    files = browser.find_elements(By.CSS_SELECTOR, "#tier-table tr.detail table")[0]
    want_files = {t["file"] for t in shop["classified"]["tests"] if t["tier"] == "postgres_only"}
    shown_files = {td.text for td in files.find_elements(By.CSS_SELECTOR, "tbody > tr > td.id")}
    assert shown_files == want_files
    files.find_element(By.CSS_SELECTOR, "tbody > tr.expandable").click()
    tests = files.find_element(By.CSS_SELECTOR, "tr.detail table")
    tests.find_element(By.CSS_SELECTOR, "tbody > tr.expandable").click()
    reasons = tests.find_elements(By.CSS_SELECTOR, "ul.reasons li")
    assert reasons and any("postgres" in r.text for r in reasons)
    assert errors(browser) == []


def test_screenshots_are_not_blank(browser: webdriver.Chrome, shop: dict) -> None:
    open_report(browser, shop["report"])
    keep = os.environ.get("TESTMAP_REPORT_SCREENSHOTS")
    for section in SECTIONS:
        png = browser.find_element(By.ID, section).screenshot_as_png
        # Text, bars and lines in several colours: far from one flat colour.
        assert len(png_pixels(png)) > 8, section
        if keep:
            Path(keep).mkdir(parents=True, exist_ok=True)
            (Path(keep) / f"report-{section}.png").write_bytes(png)


EVIL = [
    "<script>alert(1)</script>",
    '"><img src=x onerror=alert(2)>',
    "</style><script>alert(3)</script>",
    "</script><script>alert(4)</script><!--",
]


def test_project_strings_show_as_text_and_run_nothing(
    browser: webdriver.Chrome, testmap_bin: str, tmp_path: Path
) -> None:
    root = tmp_path / "evil"
    (root / "tests").mkdir(parents=True)
    services = "\n".join(
        f'[tool.testmap.services.{json.dumps(name)}]\nmarkers = ["m{i}"]\n'
        for i, name in enumerate(EVIL)
    )
    markers = ", ".join(f'"m{i}: marker"' for i in range(len(EVIL)))
    (root / "pyproject.toml").write_text(
        f"[tool.pytest.ini_options]\nmarkers = [{markers}]\n\n{services}"
    )
    body = "import pytest\n\n"
    for i in range(len(EVIL)):
        body += f"@pytest.mark.m{i}\ndef test_{i}():\n    pass\n\n\n"
    (root / "tests" / "test_a.py").write_text(body)
    # A file name that tries the same.
    (root / "tests" / 'test_"><img src=x onerror=alert(5)>.py').write_text(
        "def test_b():\n    pass\n"
    )
    out = root / "report.html"
    run([testmap_bin, "report", "-o", str(out)], root)
    html = out.read_text()
    for name in EVIL:
        assert name not in html
    assert html.count("<script") == 2  # the data and the page's own script
    open_report(browser, out)
    with pytest.raises(NoAlertPresentException):
        browser.switch_to.alert.text  # noqa: B018 (no dialog opened)
    assert browser.find_elements(By.CSS_SELECTOR, "img") == []
    assert len(browser.find_elements(By.TAG_NAME, "script")) == 2
    text = browser.find_element(By.TAG_NAME, "body").text
    for name in EVIL:
        assert name in text  # shown as the text it is
    assert errors(browser) == []


def test_a_50000_test_suite_is_small_and_searchable(
    browser: webdriver.Chrome, testmap_bin: str, tmp_path: Path
) -> None:
    sys.path.insert(0, str(HERE.parent / "benchmarks"))
    import classify_gen

    root = tmp_path / "big"
    classify_gen.generate(root, classify_gen.DEFAULT_SEED, 1.5)
    out = tmp_path / "big.html"
    p = run([testmap_bin, "report", "-o", str(out), "--timings"], root)
    tests = int(p.stderr.split("(")[1].split(" tests")[0])
    assert tests >= 50_000
    assert out.stat().st_size <= 15_000_000
    open_report(browser, out)
    assert int(browser.find_element(By.CSS_SELECTOR, "#count-tests b").text) == tests
    table = browser.find_element(By.CSS_SELECTOR, "#slow-tests table")
    # Long lists are drawn a page at a time.
    assert len(table.find_elements(By.CSS_SELECTOR, "tbody > tr")) <= 100
    ids = [
        t["id"] for t in json.loads(run([testmap_bin, "classify", "--json"], root).stdout)["tests"]
    ]
    assert len(ids) == tests
    word = ids[len(ids) // 2].split("::")[0].rsplit("/", 1)[1]  # one file's name
    want = str(sum(1 for i in ids if word in i.lower()))
    start = time.monotonic()
    browser.find_element(By.ID, "search").send_keys(word)
    while table.get_attribute("data-shown") != want:
        assert time.monotonic() - start < 10, "searching 50,000 tests froze the page"
        time.sleep(0.05)
    assert int(want) < tests
    assert errors(browser) == []


def test_markdown_summary(testmap_bin: str, shop: dict) -> None:
    md = run([testmap_bin, "report", "--markdown"], shop["root"]).stdout
    tiers = {t["tier"] for t in shop["classified"]["tests"]}
    table = [line for line in md.splitlines() if line.startswith("| ") and "|---" not in line]
    listed = {line.split("|")[1].strip() for line in table}
    assert tiers <= listed
    slowest = md.split("### The ten slowest tests")[1].split("###")[0]
    rows = [
        line for line in slowest.splitlines() if line.startswith("| ") and "seconds" not in line
    ]
    assert len(rows) == 10
    values = [float(r.split("|")[2]) for r in rows]
    assert values == sorted(values, reverse=True)
    unknown = sum(1 for t in shop["classified"]["tests"] if t["tier"] == "unknown")
    assert f"### Unknown tests: {unknown}" in md


def test_why_each_test_was_selected_by_the_change(
    browser: webdriver.Chrome, testmap_bin: str, tmp_path: Path
) -> None:
    sys.path.insert(0, str(HERE))
    import test_affected

    root = tmp_path / "proj"
    for rel, text in test_affected.PROJECT.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    proc = test_affected.pytest_run(root, "--testmap-deps", "-p", "no:xdist")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    test_affected.edit(root, "pkg/calc.py", "return a + b", "return b + a")
    want = {t["id"]: t["reasons"] for t in test_affected.affected(testmap_bin, root)["selection"]}
    assert 0 < len(want) < len(test_affected.ALL)
    out = root / "report.html"
    run([testmap_bin, "report", "--affected", "-o", str(out)], root)
    open_report(browser, out)
    assert browser.find_element(By.ID, "selected-count").text == str(len(want))
    rows = browser.find_elements(By.CSS_SELECTOR, "#selected-table tbody > tr")
    shown = {
        r.find_elements(By.TAG_NAME, "td")[0].text: r.find_elements(By.TAG_NAME, "td")[2].text
        for r in rows
    }
    assert set(shown) == set(want)
    for test_id, reasons in want.items():
        for reason in reasons:
            assert reason in shown[test_id]
    md = run([testmap_bin, "report", "--affected", "--markdown"], root).stdout
    assert f"### Selected by the change: {len(want)} of {len(test_affected.ALL)} tests" in md
    assert errors(browser) == []


def test_polluters_found_by_bisect_are_shown(
    browser: webdriver.Chrome, testmap_bin: str, tmp_path: Path
) -> None:
    root = tmp_path / "polluted"
    (root / "tests").mkdir(parents=True)
    (root / "pyproject.toml").write_text("[tool.pytest.ini_options]\n")
    (root / "tests" / "test_a.py").write_text(
        "import os\n\n\ndef test_sets_mode():\n    os.environ['MODE'] = 'fast'\n\n\n"
        + "".join(f"def test_other_{i}():\n    pass\n\n\n" for i in range(6))
    )
    (root / "tests" / "test_b.py").write_text(
        "import os\n\n\ndef test_default_mode():\n    assert os.environ.get('MODE') is None\n"
    )
    env = {k: v for k, v in os.environ.items() if k not in ("MODE", "PYTEST_XDIST_WORKER")}
    cmd = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-p", "no:randomly"]
    first = subprocess.run(
        [*cmd, "--testmap-durations", "-p", "no:xdist"],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
    )
    assert first.returncode == 1, first.stdout[-2000:]
    victim = "tests/test_b.py::test_default_mode"
    # Nothing found yet: no section.
    out = root / "report.html"
    run([testmap_bin, "report", "-o", str(out)], root, env=env)
    open_report(browser, out)
    assert browser.find_elements(By.ID, "polluters") == []
    run([testmap_bin, "bisect", victim, "--", *cmd], root, env=env)
    run([testmap_bin, "report", "-o", str(out)], root, env=env)
    open_report(browser, out)
    rows = browser.find_elements(By.CSS_SELECTOR, "#polluters-table tbody > tr")
    assert len(rows) == 1
    cells = [td.text for td in rows[0].find_elements(By.TAG_NAME, "td")]
    assert cells[0] == victim
    assert cells[1] == "tests/test_a.py::test_sets_mode"
    # The command shown reproduces the failure.
    again = subprocess.run(cells[4], shell=True, env=env, capture_output=True, text=True)
    assert again.returncode == 1 and "1 failed, 1 passed" in again.stdout, again.stdout[-2000:]
    md = run([testmap_bin, "report", "--markdown"], root, env=env).stdout
    assert "### Polluters found by `testmap bisect`: 1" in md
    assert f"- {victim} fails after tests/test_a.py::test_sets_mode" in md
    assert errors(browser) == []


def test_a_run_that_stopped_at_collection_is_not_a_recorded_run(
    testmap_bin: str, tmp_path: Path
) -> None:
    root = tmp_path / "proj"
    (root / "tests").mkdir(parents=True)
    (root / "pyproject.toml").write_text("[tool.pytest.ini_options]\n")
    (root / "tests" / "test_a.py").write_text("def test_a():\n    pass\n")
    (root / "tests" / "test_b.py").write_text("import not_a_module_anywhere\n")
    cmd = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "--testmap-durations"]
    broken = subprocess.run(cmd, cwd=root, capture_output=True, text=True)
    assert broken.returncode == 2, broken.stdout[-2000:]
    md = run([testmap_bin, "report", "--markdown"], root).stdout
    assert "0 recorded runs" in md, md
    (root / "tests" / "test_b.py").write_text("def test_b():\n    pass\n")
    for _ in range(2):
        ok = subprocess.run(cmd, cwd=root, capture_output=True, text=True)
        assert ok.returncode == 0, ok.stdout[-2000:]
    md = run([testmap_bin, "report", "--markdown"], root).stdout
    assert "2 tests, 1 tier, 0 unknown; 2 recorded runs." in md, md
    assert "### The plan: 1 machine," in md, md
