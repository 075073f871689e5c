# Set-up, build and checks. `make demo` and `make test` work on a fresh Debian machine:
# they install what is missing (apt-get for system packages, pip into .venv), build, run.
SHELL := /bin/bash
.SHELLFLAGS := -eo pipefail -c
VENV ?= .venv
PY := $(VENV)/bin/python
BUILD := build/wheel
APT_PACKAGES := cmake ninja-build g++ python3-venv python3-dev libsqlite3-dev libtomlplusplus-dev \
  libcli11-dev nlohmann-json3-dev libfmt-dev doctest-dev libxxhash-dev clang libclang-rt-14-dev \
  clang-format libmimalloc-dev libpugixml-dev libsimdjson-dev libyaml-dev postgresql redis-server memcached libmemcached-dev mariadb-server mariadb-client \
  chromium chromium-driver
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
FUZZ_SECONDS ?= 20

.PHONY: all deps venv build test test-cpp test-py test-wheel sdist fuzz-smoke demo bench format lint clean

all: build

deps:
	@missing=$$(for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	  echo "installing: $$missing"; \
	  $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $$missing; \
	fi

$(VENV)/.ready: requirements-dev.txt | deps
	python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -r requirements-dev.txt
	touch $@

venv: $(VENV)/.ready

build: venv
	$(PY) -m pip install -q --no-build-isolation --no-deps \
	  --config-settings=build-dir=$(BUILD) \
	  --config-settings=cmake.define.TESTMAP_TESTS=ON .

test-cpp: build
	ctest --test-dir $(BUILD) --output-on-failure

test-py: build
	$(PY) -m pytest -q

# The portable wheel (tests/test_portable_wheel.py): the sdist built without the -dev
# packages and without a network, checked with auditwheel, run in a fresh venv.
test-wheel: build
	$(PY) -m pytest -q -m wheel tests/test_portable_wheel.py

# The sdist, with the pinned C/C++ sources in third_party/ so that it builds offline.
sdist: venv
	cmake -P cmake/fetch_third_party.cmake
	$(PY) -m build --sdist --no-isolation -o dist

# Short libFuzzer runs (clang, ASan, UBSan) from the checked-in corpora: the scanner
# (fuzz/corpus), then the durations, plan, config, compose/CI and tox.ini parsers
# (fuzz/<name>/). A crash fails the target and leaves its input in build/fuzz/.
FUZZ_INPUT_SECONDS ?= 10
FUZZERS := durations plan config service_files tox
fuzz-smoke: deps
	cmake -S . -B build/fuzz -G Ninja -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ \
	  -DCMAKE_BUILD_TYPE=RelWithDebInfo -DTESTMAP_FUZZ=ON >/dev/null
	cmake --build build/fuzz --target scanner_fuzz $(addsuffix _fuzz,$(FUZZERS))
	mkdir -p build/fuzz/corpus && cp -n fuzz/corpus/* build/fuzz/corpus/ 2>/dev/null || true
	build/fuzz/scanner_fuzz -max_total_time=$(FUZZ_SECONDS) -max_len=4096 -print_final_stats=1 \
	  -artifact_prefix=build/fuzz/ \
	  build/fuzz/corpus fuzz/corpus 2>&1 | tail -5
	for f in $(FUZZERS); do \
	  mkdir -p build/fuzz/$$f && cp -n fuzz/$$f/* build/fuzz/$$f/ 2>/dev/null || true; \
	  echo "fuzzing $$f:"; \
	  build/fuzz/$${f}_fuzz -max_total_time=$(FUZZ_INPUT_SECONDS) -max_len=4096 \
	    -print_final_stats=1 -artifact_prefix=build/fuzz/$$f- build/fuzz/$$f fuzz/$$f 2>&1 \
	    | tail -3 || exit 1; \
	done

test: test-cpp test-py test-wheel fuzz-smoke

# The main job on the example shop: classify it from the source, record its suite with real
# services (started by the suite on free ports), then show what the recorded run changed
# and enforce the tiers.
DEMO_TEST := tests/cache/test_cache_backend.py::test_redis_backend_override
demo: build
	rm -rf examples/shop/.testmap
	$(VENV)/bin/testmap classify examples/shop
	$(VENV)/bin/testmap classify examples/shop --explain "tests/orders/test_repo.py::TestOrderRepo::test_create"
	cd examples/shop && ../../$(VENV)/bin/testmap record -- ../../$(PY) -m pytest -q -p no:cacheprovider -n 2
	$(VENV)/bin/testmap classify examples/shop --diff
	$(VENV)/bin/testmap classify examples/shop --explain "$(DEMO_TEST)"
	cd examples/shop && ../../$(VENV)/bin/testmap record --enforce -- ../../$(PY) -m pytest -q -p no:cacheprovider
	$(VENV)/bin/testmap classify examples/shop

bench: build
	PATH=$(abspath $(VENV))/bin:$$PATH $(PY) benchmarks/classify
	PATH=$(abspath $(VENV))/bin:$$PATH $(PY) benchmarks/record
	PATH=$(abspath $(VENV))/bin:$$PATH $(PY) benchmarks/plan
	PATH=$(abspath $(VENV))/bin:$$PATH $(PY) benchmarks/db
	PATH=$(abspath $(VENV))/bin:$$PATH $(PY) benchmarks/db_aliases
	PATH=$(abspath $(VENV))/bin:$$PATH $(PY) benchmarks/bisect
	PATH=$(abspath $(VENV))/bin:$$PATH $(PY) benchmarks/lint
	PATH=$(abspath $(VENV))/bin:$$PATH $(PY) benchmarks/report
	PATH=$(abspath $(VENV))/bin:$$PATH $(PY) benchmarks/envs

format: venv
	clang-format -i $$(git ls-files 'src/*.cc' 'src/*.h' 'src/*.c')
	$(VENV)/bin/ruff format src/testmap tests benchmarks examples

lint: venv
	clang-format --dry-run --Werror $$(git ls-files 'src/*.cc' 'src/*.h' 'src/*.c')
	$(VENV)/bin/ruff check src/testmap tests benchmarks examples
	$(VENV)/bin/ruff format --check src/testmap tests benchmarks examples

clean:
	rm -rf build
