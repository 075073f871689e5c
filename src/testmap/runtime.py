"""Runtime service detection: test boundaries for the preload shim, results, enforcement.

Active under ``testmap record`` (which sets TESTMAP_RECORD_DIR and LD_PRELOAD) or with
``pytest --testmap-enforce``. The shim (src/shim) sees the sockets; this module only tells
it which test phase is running, reads what it saw after each phase and writes one JSON line
per test. Where the shim is not loaded, a Python-level socket patch stands in, with a
warning that C-library traffic is invisible. docs/runtime.md is the contract.
"""

from __future__ import annotations

import ctypes
import json
import os
import secrets
import socket
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import pytest

import testmap
from testmap import _core

SHIM_NAME = "libtestmap_preload.so"
PHASES = ("setup", "call", "teardown")

_active: Recorder | None = None
_owned: tuple[str, str] | None = None  # (root, run dir) of a --testmap-durations run
# Declarations made before the recorder exists (a conftest imported before
# pytest_configure): applied when it starts.
_declared: list[tuple[str, int | None, str | None]] = []


def declare_service(name: str, port: int | None = None, unix_socket: str | None = None) -> None:
    """Say that ``name`` is reached at ``port`` (any host) and/or the Unix socket path.

    For servers the tests start on free ports. A no-op when testmap is not recording.
    """
    if _active is not None:
        _active.declare(name, port, unix_socket)
    else:
        _declared.append((name, port, unix_socket))


def shim_path() -> Path | None:
    """Where ``pip install`` put the shim: <prefix>/lib/testmap/."""
    for prefix in (sys.prefix, sys.base_prefix):
        p = Path(prefix) / "lib" / "testmap" / SHIM_NAME
        if p.is_file():
            return p
    return None


def shim_loaded() -> bool:
    """Whether the preload shim is in this process: its marker symbol is in the global scope
    (no /proc needed, which a container may not have)."""
    try:
        return hasattr(ctypes.CDLL(None), "testmap_preload_active")
    except OSError:
        return False


class Phase:
    """What one phase of one test used."""

    __slots__ = ("external", "fixtures", "refused", "services", "shared")

    def __init__(self) -> None:
        self.services: set[str] = set()
        self.shared: set[str] = set()
        self.external: set[str] = set()
        self.refused: list[tuple[str, str]] = []
        self.fixtures: dict[str, set[str]] = {}  # service -> fixtures whose code used it

    def add(self, services, external, refused, shared: bool = False, fixture: str = "") -> None:
        (self.shared if shared else self.services).update(services)
        self.external.update(external)
        self.refused.extend(refused)
        if fixture:
            for service in services:
                self.fixtures.setdefault(service, set()).add(fixture)

    def as_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "services": sorted(self.services | self.shared),
            "shared": sorted(self.shared - self.services),
            "external": sorted(self.external),
        }
        if self.fixtures:
            out["fixtures"] = {s: sorted(f) for s, f in sorted(self.fixtures.items())}
        return out


class ShimSource:
    """Phases published in the shared-memory region the preload shim writes into."""

    def __init__(self, region_path: Path) -> None:
        self.region = _core.Region(str(region_path))
        # Children (forked, exec'd) find the region through the environment.
        os.environ["TESTMAP_SHM"] = str(region_path)
        self.seq = 0

    def declare(self, name: str, port: int | None, unix_socket: str | None) -> None:
        self.region.declare(name)
        if port is not None:
            self.region.add_port(name, int(port))  # with postgres's Unix socket
        if unix_socket:
            self.region.add_unix_socket(name, str(unix_socket)[-108:])

    def begin(self) -> int:
        self.seq += 1
        self.region.begin(self.seq)
        return self.seq

    def end(self, seq: int):
        return self.region.end(seq)

    def allow(self, services: list[str] | None, enforce: bool) -> None:
        self.region.set_enforce(enforce)
        if services is None:
            self.region.allow_all()
        else:
            self.region.set_allowed(services)


class SocketPatchSource:
    """The fallback: Python's socket methods, patched. Sees only Python-level sockets, and
    names servers by declared ports only: another server on this machine is kept by its
    address (external), never dropped; one this process listens on is no service."""

    def __init__(self) -> None:
        self.ports: dict[int, str] = {}
        self.own_ports: set[int] = set()  # listening sockets of this process
        self.unix: list[tuple[str, str]] = []
        self.seq = 0
        self.current: dict[str, Any] | None = None
        self.enforce = False
        self.allowed: set[str] | None = None
        self._patch()

    def declare(self, name: str, port: int | None, unix_socket: str | None) -> None:
        if port is not None:
            self.ports[int(port)] = name
            if name in ("postgres", "postgresql"):
                self.unix.append((f".s.PGSQL.{int(port)}", name))
        if unix_socket:
            self.unix.append((str(unix_socket), name))

    def _what(self, address) -> tuple[str | None, str]:
        if isinstance(address, (str, bytes)):
            path = address.decode(errors="replace") if isinstance(address, bytes) else address
            for suffix, name in self.unix:
                if path.endswith(suffix):
                    return name, f"the Unix socket {path}"
            return None, path
        if isinstance(address, tuple) and len(address) >= 2:
            host, port = str(address[0]), int(address[1])
            shown = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
            if port in self.ports:
                return self.ports[port], shown
            loopback = host.startswith("127.") or host in ("::1", "localhost")
            if port == 53 or (loopback and port in self.own_ports):
                return None, shown
            return "external", shown
        return None, ""

    def _note(self, address, connecting: bool) -> bool:
        cur = self.current
        if cur is None:
            return True
        name, shown = self._what(address)
        if name is None:
            return True
        if name == "external":
            cur["external"].add(shown)
            return True
        if connecting and self.enforce and self.allowed is not None and name not in self.allowed:
            cur["refused"].append((name, shown))
            return False
        cur["services"].add(name)
        return True

    def _patch(self) -> None:
        src = self
        cls = socket.socket
        names = ("connect", "connect_ex", "send", "sendall", "sendto", "listen")
        orig = {n: getattr(cls, n) for n in names}

        def listen(sock, *args):
            result = orig["listen"](sock, *args)
            try:
                name = sock.getsockname()
                if isinstance(name, tuple) and len(name) >= 2:
                    src.own_ports.add(int(name[1]))
            except OSError:
                pass
            return result

        def peer(sock):
            try:
                return sock.getpeername()
            except OSError:
                return None

        def connect(sock, address):
            if not src._note(address, True):
                raise ConnectionRefusedError(111, "Connection refused (testmap enforcement)")
            return orig["connect"](sock, address)

        def connect_ex(sock, address):
            if not src._note(address, True):
                return 111
            return orig["connect_ex"](sock, address)

        def send(sock, *args):
            src._note(peer(sock), False)
            return orig["send"](sock, *args)

        def sendall(sock, *args):
            src._note(peer(sock), False)
            return orig["sendall"](sock, *args)

        def sendto(sock, data, *args):
            src._note(args[-1] if args else peer(sock), False)
            return orig["sendto"](sock, data, *args)

        cls.connect, cls.connect_ex, cls.send = connect, connect_ex, send
        cls.sendall, cls.sendto, cls.listen = sendall, sendto, listen

    def begin(self) -> int:
        self.seq += 1
        self.current = {"services": set(), "external": set(), "refused": []}
        return self.seq

    def end(self, seq: int):
        cur, self.current = self.current, None
        if cur is None:
            return [], [], []
        return sorted(cur["services"]), sorted(cur["external"]), list(cur["refused"])

    def allow(self, services: list[str] | None, enforce: bool) -> None:
        self.enforce = enforce
        self.allowed = None if services is None else set(services)


class NullSource:
    """Durations only (``--testmap-durations``): no socket is watched."""

    def __init__(self) -> None:
        self.seq = 0

    def declare(self, name: str, port: int | None, unix_socket: str | None) -> None:
        pass

    def begin(self) -> int:
        self.seq += 1
        return self.seq

    def end(self, seq: int):
        return [], [], []

    def allow(self, services: list[str] | None, enforce: bool) -> None:
        pass


class Recorder:
    """Publishes test phases to the source, collects what they used, writes JSON lines."""

    def __init__(
        self, config: pytest.Config, record_dir: Path | None, enforce: bool, durations_only: bool
    ) -> None:
        self.config = config
        self.enforce = enforce
        workerinput = getattr(config, "workerinput", None)
        self.worker = workerinput["workerid"] if workerinput else "main"
        self.record_dir = record_dir
        self.out = None
        self.tmp = None
        self.tiers: dict[str, tuple[str, list[str] | None]] = {}
        root = str(config.rootpath)
        if record_dir is not None:
            record_dir.mkdir(parents=True, exist_ok=True)
            # Line-buffered: every finished test reaches the file at once, so a run killed
            # half-way keeps what it saw.
            self.out = open(record_dir / f"{self.worker}.jsonl", "a", buffering=1, encoding="utf-8")
            (record_dir / f"meta-{self.worker}.json").write_text(json.dumps({"root": root}))
            region_dir = record_dir
        else:
            self.tmp = tempfile.TemporaryDirectory(prefix="testmap-")
            region_dir = Path(self.tmp.name)
        forced = os.environ.get("TESTMAP_FALLBACK") == "1"
        self.durations_only = durations_only and not enforce
        self.deps = os.environ.get("TESTMAP_DEPS") == "1" and self.out is not None
        self.token = secrets.token_hex(4)  # this recorder's, in its lines' "w"
        if self.deps:
            from testmap import _child

            # A child forked during a test (multiprocessing's fork workers) keeps the
            # tracer running; it must write what it ran before it exits.
            os.register_at_fork(after_in_child=_child.after_fork)
            _untraced_rewrite()
            # From here (or since the conftests were loaded): collection imports the test
            # modules, and what their imports run is code run outside tests.
            _core.deps_start(root)
            _took_over_early_deps()
        else:
            _stop_early_deps()
        self.root = root
        if self.durations_only:
            self.source: ShimSource | SocketPatchSource | NullSource = NullSource()
        elif not forced and shim_loaded():
            self.source = ShimSource(region_dir / f"{self.worker}.region")
            self.source.region.declare_from_config(root)
        else:
            if not forced:
                sys.stderr.write(
                    "testmap: warning: the preload shim is not loaded (run under `testmap "
                    "record`); using Python's socket module instead: connections made inside "
                    "C libraries (libpq, libmemcached, ...) are invisible\n"
                )
            os.environ.pop("TESTMAP_SHM", None)
            self.source = SocketPatchSource()
            for s in json.loads(_core.config_services(root)):
                for port in s["ports"]:
                    self.source.declare(s["name"], port, None)
                for path in s["unix_sockets"]:
                    self.source.declare(s["name"], None, path)
        for declared in _declared:
            self.source.declare(*declared)
        if enforce:
            try:
                result = testmap.classify(root)
            except ValueError as e:  # the store or the config cannot be read
                raise pytest.UsageError(f"--testmap-enforce: {e}") from None
            for t in result["tests"]:
                services = None if t["unknown"] else list(t["services"])
                self.tiers[t["id"]] = (t["tier"], services)
        self.item = None
        self.seq = 0
        self.phases: dict[str, Phase] = {}
        self.durations: dict[str, float] = {}
        self.first_attempt = ""  # the failed first attempt of a rerun test, until written
        self.carried: set[tuple] = set()  # a rerun test's first attempt's deps
        self.outcome = "passed"
        self.opens_read: dict[str, int] = {}
        # Code run outside every test (imports at collection, between tests): it can shape
        # what every importer sees (`visit_Add = _make_binop("+")` in a class body).
        self.outside: set[tuple[str, str]] = set()
        if self.deps:
            self.outside.update(_startup_hooks(root))
        self.outside_written = 0
        self.children: Path | None = None

    # Python processes the test starts record into this directory (src/testmap/_child.py);
    # set only while a test runs, so xdist's workers and servers started before are not.
    # Under `testmap record` the shim also notes the files any code opens for reading, C
    # libraries included, in this directory (src/shim/preload.c, "files opened").
    def _children_start(self) -> None:
        assert self.record_dir is not None
        if self.children is None:
            self.children = self.record_dir / f"children-{self.worker}"
            self.children.mkdir(exist_ok=True)
        os.environ["TESTMAP_DEPS_CHILD"] = str(self.children)
        os.environ["TESTMAP_DEPS_ROOT"] = self.root
        if isinstance(self.source, ShimSource):
            self._opens_take()  # what was opened between tests belongs to none
            os.environ["TESTMAP_DEPS_OPENS"] = str(self.children)

    def _opens_take(self) -> set[tuple[str, str]]:
        out: set[tuple[str, str]] = set()
        real_root = os.path.realpath(self.root)
        for f in self.children.glob("*.opens"):
            start = self.opens_read.get(f.name, 0)
            try:
                with open(f, "rb") as fh:
                    fh.seek(start)
                    data = fh.read()
            except OSError:
                continue
            end = data.rfind(b"\n") + 1  # a line still being written waits for the next take
            self.opens_read[f.name] = start + end
            for raw in data[:end].splitlines():
                path = os.path.realpath(os.fsdecode(raw))
                rel = os.path.relpath(path, real_root)
                if rel.startswith("..") or rel.startswith(".testmap") or not os.path.isfile(path):
                    continue
                out.add((rel, "<data>"))
        return out

    def _children_take(self) -> set[tuple[str, str]]:
        for name in _IN_TEST:
            os.environ.pop(name, None)
        out: set[tuple[str, str]] = (
            self._opens_take() if isinstance(self.source, ShimSource) else set()
        )
        assert self.children is not None
        for name in os.listdir(self.children):  # once per test: cheaper than Path.glob
            if not name.endswith(".json"):
                continue
            f = self.children / name
            try:
                out.update((a, b) for a, b in json.loads(f.read_text()))
                f.unlink()
            except (OSError, ValueError):
                pass  # a child still writing: its deps go to the next test, never nowhere
        return out

    def declare(self, name: str, port: int | None, unix_socket: str | None) -> None:
        self.source.declare(name, port, unix_socket)

    # -- phases ------------------------------------------------------------------------

    def tier_of(self, item: pytest.Item) -> tuple[str, list[str] | None]:
        return self.tiers.get(testmap.strip_params(item.nodeid), ("unknown", None))

    def begin(self, item: pytest.Item, when: str) -> None:
        if when == "setup":
            if self.deps:
                taken = map(tuple, _core.deps_take(self.root))
                # A rerun (quarantine = "rerun"): what the first attempt ran is the test's.
                (self.carried if self.first_attempt else self.outside).update(taken)
                self._children_start()
                _core.deps_start(self.root)
            self.item = item
            self.phases = {p: Phase() for p in PHASES}
            self.durations = {}
            self.outcome = "passed"
            self.source.allow(self.tier_of(item)[1], self.enforce)
        elif self.deps:
            _core.deps_resume()  # paused while pytest reported the last phase
        self.when = when
        self.seq = self.source.begin()

    def end(self) -> Phase | None:
        if self.item is None or self.seq == 0:
            return None
        services, external, refused = self.source.end(self.seq)
        self.seq = 0
        phase = self.phases[self.when]
        phase.add(services, external, refused)
        return phase

    # Each fixture's own code (pytest has set up what it requests before this hook) is
    # timed apart, so the store can say which fixture used a service. Session-, module-
    # and class-scoped fixtures set up for this test: their traffic is this test's, marked
    # shared.
    def fixture_setup(self, fixturedef) -> Any:
        if self.item is None or self.seq == 0:
            return None
        services, external, refused = self.source.end(self.seq)
        self.phases[self.when].add(services, external, refused)
        self.seq = self.source.begin()
        return fixturedef

    def fixture_done(self, fixturedef) -> None:
        services, external, refused = self.source.end(self.seq)
        shared = fixturedef.scope != "function"
        self.phases[self.when].add(
            services, external, refused, shared=shared, fixture=fixturedef.argname
        )
        self.seq = self.source.begin()

    # Teardown runs the function-scoped fixtures' finalizers first, then those of the scopes
    # this test ends (the module's last test tears down module fixtures, the session's last
    # test the session's). Each fixture's traffic ends at its post-finalizer hook: the
    # higher-scoped ones' is this test's, marked shared, as at set-up.
    def fixture_finalized(self, fixturedef) -> None:
        if self.item is None or self.seq == 0 or self.when != "teardown":
            return
        services, external, refused = self.source.end(self.seq)
        shared = fixturedef.scope != "function"
        self.phases["teardown"].add(
            services, external, refused, shared=shared, fixture=fixturedef.argname
        )
        self.seq = self.source.begin()

    def refusal_message(self, item: pytest.Item, phase: Phase) -> str:
        tier = self.tier_of(item)[0]
        lines = [
            f"testmap: {item.nodeid} connected to {service} at {address}, "
            f"which its tier {tier} does not include"
            for service, address in dict.fromkeys(phase.refused)
        ]
        return "\n".join(lines)

    def write(self, item: pytest.Item) -> None:
        if self.out is None:
            return
        line = {
            "nodeid": item.nodeid,
            # A known flaky test rerun after failing counts as failed, as it would have
            # without the rerun: `testmap flaky` compares runs alike.
            "outcome": self.first_attempt or self.outcome,
            "duration": round(sum(self.durations.values()), 6),
            # Without "phases" the store keeps what earlier recorded runs saw.
            **(
                {}
                if self.durations_only
                else {"phases": {p: self.phases[p].as_json() for p in PHASES}}
            ),
            "refused": sorted({f"{s} {a}" for p in self.phases.values() for s, a in p.refused}),
            "time": time.time(),
        }
        if self.deps:
            _core.deps_stop()
        text = json.dumps(line)
        if self.deps:
            # Code by number ("defs" names the numbers this writer has not defined in this
            # file yet), then what children and a first attempt ran, as [file, name]
            # pairs. "w" tells writers apart: a pytest that a test starts, or a forked
            # child, may append to the same file with numbers of its own.
            writer = f"{self.token}-{os.getpid()}"
            deps, defs = _core.deps_take_json(self.root, f"{self.out.name}\n{writer}")
            if extra := self._children_take() | self.carried:
                deps = json.dumps(json.loads(deps) + sorted(map(list, extra)))
                self.carried = set()
            text = f'{text[:-1]}, "w": "{writer}", "deps": {deps}'
            text += f', "defs": {defs}}}' if defs != "[]" else "}"
            if len(self.outside) != self.outside_written:
                self._write_outside()
        self.out.write(text + "\n")
        self.first_attempt = ""

    def _write_outside(self) -> None:
        """This worker's code run outside tests, whole each time (replaced atomically)."""
        assert self.record_dir is not None
        path = self.record_dir / f"outside-{self.worker}.json"
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(sorted(self.outside)))
        os.replace(tmp, path)
        self.outside_written = len(self.outside)

    # -- hooks -------------------------------------------------------------------------

    # Wrappers run before the first and after the last implementation of a hook, so
    # fixture set-up and teardown (and other plugins' hooks) fall inside the test.
    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_setup(self, item: pytest.Item):
        self.begin(item, "setup")
        yield

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_call(self, item: pytest.Item):
        self.begin(item, "call")
        yield

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_teardown(self, item: pytest.Item):
        self.begin(item, "teardown")
        yield
        self.end()

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_makereport(self, item: pytest.Item, call: pytest.CallInfo):
        phase = self.end() if call.when != "teardown" else self.phases.get("teardown")
        outcome = yield
        if self.deps:
            # Every hook's report is made (a conftest's too, which may call the project);
            # from here to the next phase pytest logs it, its own code, which the 3.11
            # frame hook would only slow down.
            _core.deps_pause()
        report = outcome.get_result()
        if phase is not None and phase.refused and self.enforce:
            report.outcome = "failed"
            report.longrepr = self.refusal_message(item, phase)

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if self.item is None or report.nodeid != self.item.nodeid:
            return
        if report.outcome == "rerun":  # quarantine = "rerun": the run's own outcome is this
            self.first_attempt = "failed" if report.when == "call" else "error"
            return
        self.durations[report.when] = report.duration
        if report.failed:
            self.outcome = "failed" if report.when == "call" else "error"
        elif report.skipped and self.outcome == "passed":
            self.outcome = "skipped"
        if report.when == "teardown":
            self.write(self.item)
            self.item = None

    def close(self) -> None:
        if self.deps:  # a test that never reached its teardown report (pytest.exit) set them
            for name in _IN_TEST:
                os.environ.pop(name, None)
        if self.out is not None:
            self.out.close()
        if self.tmp is not None:
            self.tmp.cleanup()


class FixtureHooks:
    """Which fixture used a service: registered only when services are recorded, since
    pytest calls these around every fixture of every test."""

    def __init__(self, recorder: Recorder) -> None:
        self.recorder = recorder

    @pytest.hookimpl(hookwrapper=True)
    def pytest_fixture_setup(self, fixturedef, request):
        timed = self.recorder.fixture_setup(fixturedef)
        try:
            yield
        finally:
            if timed is not None:
                self.recorder.fixture_done(timed)

    def pytest_fixture_post_finalizer(self, fixturedef, request) -> None:
        self.recorder.fixture_finalized(fixturedef)


_early_deps = False  # the tracer runs since pytest_load_initial_conftests
# Set by the recorder only while a test runs (`_children_start`), for the processes it starts.
_IN_TEST = ("TESTMAP_DEPS_CHILD", "TESTMAP_DEPS_ROOT", "TESTMAP_DEPS_OPENS")


def _untraced_rewrite() -> None:
    """Runs pytest's assertion rewriting (parse, rewrite and compile each test module, all
    in Python and none of it the project's code) without the 3.11 frame hook; the module's
    own code, run after, is traced as before. A pytest without this function is traced
    whole, which is only slower."""
    try:
        from _pytest.assertion import rewrite
    except ImportError:
        return
    original = getattr(rewrite, "_rewrite_test", None)
    if original is None or getattr(original, "testmap_untraced", False):
        return

    def _rewrite_test(*args: Any, **kwargs: Any) -> Any:
        _core.deps_pause()
        try:
            return original(*args, **kwargs)
        finally:
            _core.deps_resume()

    _rewrite_test.testmap_untraced = True  # type: ignore[attr-defined]
    rewrite._rewrite_test = _rewrite_test


def start_deps_early(root: str) -> None:
    global _early_deps
    _untraced_rewrite()
    _core.deps_start(root)
    _early_deps = True


def _took_over_early_deps() -> None:
    """The recorder owns the running tracer now: a pytest that one of its tests starts in
    this process must not stop it as an early start of its own."""
    global _early_deps
    _early_deps = False


def _stop_early_deps() -> None:
    global _early_deps
    if _early_deps:
        _core.deps_stop()
        _core.deps_take("")  # nothing records it
        _early_deps = False


_SAVED = pytest.StashKey[tuple]()  # what a pytest run in this process had set up before
_ENV = pytest.StashKey[dict]()  # the variables this run set or unset, with their old values
# What a run that a test starts inherits from the outer run: a run of its own (asked for on
# its command line) must not write into the outer one's directory, nor its workers.
_OUTER_RUN = (
    "TESTMAP_RUN_OWNER",
    "TESTMAP_RECORD_DIR",
    "TESTMAP_DURATIONS",
    "TESTMAP_DEPS",
    *_IN_TEST,
)


def configure(config: pytest.Config) -> None:
    global _active, _owned
    config.stash[_SAVED] = (_active, _owned)
    record = os.environ.get("TESTMAP_RECORD_DIR")
    # xdist marks its workers' config; PYTEST_XDIST_WORKER is inherited by every process a
    # worker's tests start, a pytest among them.
    worker = hasattr(config, "workerinput")
    if started_by_a_test(worker):
        # A pytest that a test of a recording run started (pytester, in this process or
        # another; a plugin's own suite): its tests are not that run's, and what it runs
        # belongs to the test that started it, whose tracer (or, in a new interpreter,
        # testmap-deps.pth's) keeps running. Only a run of its own, asked for on its
        # command line, records.
        if not any(
            config.getoption(o)
            for o in ("testmap_deps", "testmap_durations", "testmap_enforce", "testmap_order")
        ):
            return
        record = None  # the outer run's
        if _active is None:  # another process: nor may its own xdist workers take it
            for name in _OUTER_RUN:
                _setenv(config, name, None)
    if record and not worker and not os.environ.get("TESTMAP_RUN_OWNER"):
        # Under `testmap record`: the pytest it started owns the run; one that a test
        # starts, and not this one's xdist workers, is told apart by this.
        _setenv(config, "TESTMAP_RUN_OWNER", str(os.getpid()))
    enforce = bool(config.getoption("testmap_enforce")) or os.environ.get("TESTMAP_ENFORCE") == "1"
    durations = bool(config.getoption("testmap_durations"))
    if config.getoption("testmap_deps"):
        durations = True
        _setenv(config, "TESTMAP_DEPS", "1")  # xdist's workers inherit it
    trial = bool(config.getoption("testmap_order"))  # testmap bisect's: not the suite's run
    if not (record or enforce or durations or trial) and not worker:
        # [tool.testmap] durations = true: what --testmap-durations does, on every run. A
        # worker follows its controller through TESTMAP_RECORD_DIR instead.
        durations = _core.config_durations(str(config.rootpath))
    if not (record or enforce or durations):
        _stop_early_deps()
        return
    if durations and not record and not worker:
        # This process owns the run: its workers write into the same directory, and it
        # merges their lines into the store at the end.
        record = tempfile.mkdtemp(prefix="testmap-durations-")
        # The code this run tests, taken now: the tree may change while it runs.
        Path(record, "code.txt").write_text(_core.code_version(str(config.rootpath)))
        _setenv(config, "TESTMAP_RECORD_DIR", record)
        _setenv(config, "TESTMAP_DURATIONS", "1")
        _setenv(config, "TESTMAP_RUN_OWNER", str(os.getpid()))
        _owned = (str(config.rootpath), record)
    if enforce and not shim_loaded() and os.environ.get("TESTMAP_FALLBACK") != "1":
        _reexec_with_shim(config)
    # xdist's controller runs no test: its workers record (and trace their own imports).
    if getattr(config.option, "numprocesses", None) and not worker:
        _stop_early_deps()
        return
    durations_only = os.environ.get("TESTMAP_DURATIONS") == "1" and record is not None
    _active = Recorder(config, Path(record) if record else None, enforce, durations_only)
    config.pluginmanager.register(_active, "testmap-recorder")
    if not _active.durations_only:
        config.pluginmanager.register(FixtureHooks(_active), "testmap-fixtures")


# The hooks pytest calls while it starts, before the tracer does (pytest_load_initial_conftests).
_STARTUP_HOOKS = (
    "pytest_addoption",
    "pytest_addhooks",
    "pytest_plugin_registered",
    "pytest_cmdline_parse",
    "pytest_load_initial_conftests",
)


def _startup_hooks(root: str) -> set[tuple[str, str]]:
    """The startup hooks of the project's own modules that were imported before the tracer
    started: a plugin of the repository that pytest loaded from an entry point, `-p` or
    PYTEST_PLUGINS (pytest-mock's suite loads pytest-mock). Its `pytest_addoption` ran
    then, untraced, and an ini default it sets reaches every test: they count as code run
    outside every test, as the conftests' hooks do."""
    real_root = os.path.realpath(root)
    out: set[tuple[str, str]] = set()
    for module in list(sys.modules.values()):
        path = getattr(module, "__file__", None)
        if not isinstance(path, str):
            continue
        path = os.path.realpath(path)
        if not path.startswith(real_root + os.sep):
            continue
        rel = os.path.relpath(path, real_root).replace(os.sep, "/")
        for name in _STARTUP_HOOKS:
            code = getattr(module.__dict__.get(name), "__code__", None)
            if code is not None and os.path.realpath(code.co_filename) == path:
                out.add((rel, code.co_qualname))
    return out


def _setenv(config: pytest.Config | None, name: str, value: str | None) -> None:
    """Sets (or, for None, unsets) a variable, keeping its first old value for unconfigure."""
    if config is not None:
        config.stash.setdefault(_ENV, {}).setdefault(name, os.environ.get(name))
    if value is None:
        os.environ.pop(name, None)
    else:
        os.environ[name] = value


def started_by_a_test(worker: bool = False) -> bool:
    """Whether this pytest was started by a test of a recording run (in this process, as
    pytester's inline runs are, or in a child). xdist starts the owner's workers as its
    children, before any test runs."""
    if _active is not None or os.environ.get("TESTMAP_DEPS_CHILD"):
        return True  # set only while a test runs (Recorder._children_start)
    owner = os.environ.get("TESTMAP_RUN_OWNER")
    return bool(owner) and owner != str(os.getpid()) and not (worker and owner == str(os.getppid()))


def unconfigure(config: pytest.Config) -> None:
    global _active, _owned
    saved = config.stash.get(_SAVED, None)
    if saved is None:
        return
    # As they were: a pytest that this program starts after this one owns a run of its own,
    # and an outer run in this process (pytester) gets its own values back.
    for name, old in config.stash.get(_ENV, {}).items():
        _setenv(None, name, old)
    # Only what this config set up: a pytest run in this process (pytester) ends first.
    mine, owned = _active, _owned
    _active, _owned = saved
    if mine is not None and mine is not saved[0]:
        mine.close()
    if owned is not None and owned is not saved[1]:
        root, run_dir = owned
        ok, tests, messages = _core.merge_runs(root, run_dir, "pytest")
        for message in messages:
            sys.stderr.write(f"testmap: {message}\n")
        if ok:
            sys.stderr.write(f"testmap: {tests} test durations stored\n")


def _reexec_with_shim(config: pytest.Config) -> None:
    """`pytest --testmap-enforce` started without the shim: start again with it preloaded."""
    shim = shim_path()
    if shim is None or os.environ.get("TESTMAP_REEXEC") == "1":
        return  # the socket patch enforces what Python sees; Recorder warns
    env = dict(os.environ)
    env["LD_PRELOAD"] = f"{shim} {env['LD_PRELOAD']}" if env.get("LD_PRELOAD") else str(shim)
    env["TESTMAP_REEXEC"] = "1"
    args = config.invocation_params.args
    sys.stdout.flush()
    sys.stderr.flush()
    os.execve(sys.executable, [sys.executable, "-m", "pytest", *args], env)
