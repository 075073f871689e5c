"""Generate a deterministic, monolith-sized pytest repository for the classify benchmark.

The repository looks like a large Django-era monolith (think Sentry): a package `acme/`
of 6,000 source modules (100-400 lines each, classes, functions, imports between
modules, docstrings and comments) and a `tests/` tree of 2,500 test files holding
about 33,000 tests, with every signal of docs/config.md in play:

* test base classes 5-8 levels deep across modules, re-exported through `__init__.py`
  files (explicit and `from ... import *`), reached through aliased imports and module
  attributes (`cases.APITestCase`, `sub_testing.IssuesApiTestCase`);
* conftest.py files at five directory levels with fixture chains, overrides of a
  fixture by a closer conftest, same-name overrides, renamed fixtures, autouse fixtures
  (directory, module and class level), fixtures loaded through `pytest_plugins`;
* markers on functions and classes, `pytestmark` in modules and class bodies,
  `usefixtures`, service paths and service calls (`store_event(`, `self.store_event(`).

Every test's services are decided while it is written, so the generator knows the
intended answer: `manifest.json` (beside the tree, not in it) holds the per-test
services, the per-service and per-tier counts.

Usage: python classify_gen.py OUT_DIR [--scale 1.0] [--seed N]   (OUT_DIR must not exist)
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import sys
import textwrap
import time
from dataclasses import dataclass, field
from pathlib import Path

GEN_VERSION = 1
DEFAULT_SEED = 20240601

SERVICES = ("postgres", "redis", "kafka", "clickhouse", "snuba")
NONE: frozenset[str] = frozenset()
PG = frozenset({"postgres"})

# Service signals of the generated pyproject.toml (mirrored by the expectations below).
SERVICE_FIXTURES = {
    "pg_conn": "postgres",
    "redis_client": "redis",
    "kafka_producer": "kafka",
    "clickhouse_client": "clickhouse",
    "snuba_session": "snuba",
}
SERVICE_CALLS = {
    "flush_redis": "redis",
    "produce_message": "kafka",
    "run_clickhouse_query": "clickhouse",
    "store_event": "snuba",
}
KAFKA_DIR = "tests/acme/streaming/kafka"
CLICKHOUSE_DIR = "tests/acme/analytics/clickhouse"
MIGRATIONS_DIR = "tests/acme/migrations"
# Shares of the test files written into the service directories.
DIR_SHARES = {KAFKA_DIR: 0.013, CLICKHOUSE_DIR: 0.009}
PATH_SERVICES = {KAFKA_DIR: "kafka", CLICKHOUSE_DIR: "clickhouse", MIGRATIONS_DIR: "postgres"}

PYPROJECT = """\
[project]
name = "acme"
version = "24.6.0"
description = "The Acme monolith (generated for the testmap classify benchmark)"
requires-python = ">=3.11"

[tool.pytest.ini_options]
testpaths = ["tests"]
pythonpath = ["."]
python_files = ["test_*.py"]
python_classes = ["Test", "*Tests"]
python_functions = ["test"]
addopts = "--strict-markers -p no:cacheprovider"
markers = [
    "postgres: needs PostgreSQL",
    "redis: needs Redis",
    "kafka: needs Kafka",
    "clickhouse: needs ClickHouse",
    "snuba: needs Snuba (ClickHouse, Kafka, Redis behind it)",
    "slow: takes more than a second",
    "flaky: retried on failure",
]

[tool.testmap]
exclude = ["static/**", "node_modules/**"]

[tool.testmap.services.postgres]
ports = [5432]
startup-seconds = 5
base-classes = ["acme.testutils.cases.db.TestCase", "acme.testutils.cases.db.TransactionTestCase"]
markers = ["postgres"]
fixtures = ["pg_conn"]
paths = ["tests/acme/migrations/**"]
ci.github = { image = "postgres:16", ports = ["5432:5432"] }

[tool.testmap.services.redis]
ports = [6379]
startup-seconds = 1
base-classes = ["acme.testutils.cases.redis.RedisTestCase"]
markers = ["redis"]
fixtures = ["redis_client"]
calls = ["flush_redis"]

[tool.testmap.services.kafka]
ports = [9092]
startup-seconds = 15
base-classes = ["acme.testutils.cases.kafka.KafkaTestCase"]
markers = ["kafka"]
fixtures = ["kafka_producer"]
paths = ["tests/acme/streaming/kafka/**"]
calls = ["produce_message"]

[tool.testmap.services.clickhouse]
ports = [8123, 9000]
startup-seconds = 10
markers = ["clickhouse"]
fixtures = ["clickhouse_client"]
paths = ["tests/acme/analytics/clickhouse/**"]
calls = ["run_clickhouse_query"]

[tool.testmap.services.snuba]
ports = [1218]
startup-seconds = 45
base-classes = ["acme.testutils.cases.snuba.SnubaTestCase"]
markers = ["snuba"]
fixtures = ["snuba_session"]
calls = ["store_event"]
"""

# ---------------------------------------------------------------------------------------
# Word lists
# ---------------------------------------------------------------------------------------

APPS = (
    "issues",
    "billing",
    "accounts",
    "projects",
    "alerts",
    "integrations",
    "releases",
    "notifications",
    "search",
    "users",
    "teams",
    "monitors",
    "dashboards",
    "replays",
    "webhooks",
    "quotas",
    "exports",
    "identity",
    "incidents",
    "reports",
    "deploys",
    "feedback",
    "grouping",
    "digests",
    "onboarding",
    "plugins",
    "uptime",
    "comments",
    "imports",
    "audit",
    "sessions",
    "flags",
    "ratelimits",
    "discover",
    "mail",
    "catalog",
    "ingest",
    "orgs",
    "tagstore",
    "workflows",
)
SPECIAL_APPS = ("streaming", "analytics", "migrations")
SUBS = (
    "api",
    "models",
    "services",
    "tasks",
    "endpoints",
    "serializers",
    "consumers",
    "logic",
    "storage",
    "utils",
    "web",
    "admin",
    "hooks",
    "rules",
    "processing",
    "query",
    "schema",
    "jobs",
    "views",
    "handlers",
)
NESTED = ("integration", "endpoints", "v2", "regression", "unit")
NOUNS = (
    "account",
    "alert",
    "artifact",
    "attachment",
    "bucket",
    "budget",
    "channel",
    "check",
    "comment",
    "commit",
    "config",
    "consumer",
    "contract",
    "coupon",
    "credential",
    "cursor",
    "dashboard",
    "deploy",
    "device",
    "digest",
    "domain",
    "draft",
    "environment",
    "event",
    "export",
    "feature",
    "feed",
    "filter",
    "fingerprint",
    "grant",
    "group",
    "hook",
    "identity",
    "incident",
    "integration",
    "invoice",
    "issue",
    "job",
    "key",
    "label",
    "ledger",
    "limit",
    "link",
    "member",
    "message",
    "metric",
    "monitor",
    "note",
    "order",
    "owner",
    "page",
    "partition",
    "payload",
    "payment",
    "permission",
    "plan",
    "policy",
    "preference",
    "project",
    "query",
    "quota",
    "record",
    "region",
    "release",
    "replay",
    "report",
    "request",
    "result",
    "role",
    "rule",
    "schedule",
    "scope",
    "secret",
    "segment",
    "session",
    "setting",
    "snapshot",
    "source",
    "span",
    "subscription",
    "tag",
    "task",
    "team",
    "template",
    "tenant",
    "threshold",
    "token",
    "trace",
    "transaction",
    "upload",
    "usage",
    "user",
    "version",
    "webhook",
    "widget",
    "window",
    "workflow",
)
MODULE_KINDS = (
    "models",
    "views",
    "serializers",
    "tasks",
    "utils",
    "helpers",
    "validators",
    "signals",
    "handlers",
    "queries",
    "service",
    "api",
    "forms",
    "admin",
    "constants",
    "exceptions",
    "schemas",
    "managers",
    "client",
    "processors",
    "pipeline",
    "storage",
    "cache",
    "events",
    "metrics",
    "notifications",
    "permissions",
    "filters",
    "mixins",
    "registry",
    "logic",
    "backends",
)
CLASS_KINDS = (
    "Manager",
    "Service",
    "Serializer",
    "Validator",
    "Handler",
    "Processor",
    "Repository",
    "Client",
    "Builder",
    "Resolver",
    "Policy",
    "Registry",
    "Store",
    "Cache",
    "Mapper",
    "Formatter",
    "Parser",
    "Backend",
    "Adapter",
    "Scheduler",
    "Dispatcher",
    "Collector",
    "Provider",
    "Exporter",
)
VERBS = (
    "get",
    "build",
    "create",
    "update",
    "delete",
    "resolve",
    "fetch",
    "sync",
    "merge",
    "apply",
    "validate",
    "serialize",
    "render",
    "compute",
    "collect",
    "normalize",
    "schedule",
    "notify",
    "archive",
    "rotate",
    "refresh",
    "expire",
    "group",
    "split",
    "count",
    "filter",
    "load",
    "dump",
    "parse",
    "format",
)
ATTRS = (
    "name",
    "slug",
    "status",
    "date_added",
    "organization_id",
    "project_id",
    "data",
    "options",
    "is_active",
    "priority",
    "version",
    "owner_id",
    "retries",
    "timeout",
    "region",
    "labels",
)
TEST_QUALIFIERS = (
    "returns_200",
    "returns_404",
    "requires_auth",
    "rejects_invalid_input",
    "is_idempotent",
    "with_pagination",
    "with_empty_payload",
    "for_member",
    "for_owner",
    "for_superuser",
    "after_expiry",
    "when_disabled",
    "when_rate_limited",
    "handles_unicode",
    "keeps_order",
    "updates_timestamp",
    "emits_signal",
    "skips_deleted",
    "merges_duplicates",
    "respects_limit",
    "uses_cache",
    "falls_back",
    "with_feature_flag",
    "without_feature_flag",
    "in_bulk",
    "across_projects",
    "with_legacy_format",
    "strips_whitespace",
    "sorted_by_date",
    "retries",
)
STDLIB_IMPORTS = (
    "import logging",
    "import re",
    "import json",
    "import itertools",
    "import functools",
    "import hashlib",
    "import uuid",
    "from datetime import datetime, timedelta, timezone",
    "from collections import defaultdict, OrderedDict",
    "from enum import Enum",
    "from dataclasses import dataclass, field",
    "from typing import Any, Iterable, Mapping",
    "from collections.abc import Sequence",
    "import operator",
    "import time",
)


VERBS_SET = frozenset(VERBS)
NOUNS_SET = frozenset(NOUNS)
HELPER_CALL = re.compile(r"(?<![\w.])([a-z]+_[a-z]+)\(")


def past(verb: str) -> str:
    if verb.endswith("e"):
        return verb + "d"
    if verb.endswith("y"):
        return verb[:-1] + "ied"
    return verb if verb in ("split", "set") else verb + "ed"


def third(verb: str) -> str:
    if verb.endswith(("sh", "ch", "s", "x")):
        return verb + "es"
    if verb.endswith("y"):
        return verb[:-1] + "ies"
    return verb + "s"


def camel(*parts: str) -> str:
    return "".join(p[:1].upper() + p[1:] for part in parts for p in part.split("_"))


# The test framework of the monolith: acme/testutils (base classes 1-3 levels deep, mixins,
# re-exports through explicit imports, `__all__` and a star import).
FRAMEWORK = {
    "acme/__init__.py": '''
        """The Acme monolith."""

        __version__ = "24.6.0"
    ''',
    "acme/testutils/__init__.py": '''
        """Test utilities: base test cases (re-exported), factories and pytest plugins."""

        from acme.testutils.cases import *  # noqa: F403
        from acme.testutils.factories import Factories
    ''',
    "acme/testutils/base.py": '''
        """The root of every unittest-style test case of the suite."""

        import unittest

        from acme.testutils.helpers import reset_global_state


        class BaseTestCase(unittest.TestCase):
            """Resets global state around every test."""

            maxDiff = None

            def setUp(self):
                super().setUp()
                reset_global_state()

            def tearDown(self):
                reset_global_state()
                super().tearDown()


        class SimpleTestCase(BaseTestCase):
            """A test case that touches no database."""

            def assert_same_elements(self, first, second):
                self.assertEqual(sorted(first), sorted(second))
    ''',
    "acme/testutils/helpers.py": '''
        """Small helpers shared by test cases and fixtures."""

        import os

        _STATE = {}


        def reset_global_state():
            _STATE.clear()
            os.environ.pop("ACME_TEST_FLAG", None)


        def make_payload(**extra):
            payload = {"message": "hello", "level": "error"}
            payload.update(extra)
            return payload


        def connect_database(alias="default"):
            return {"alias": alias}


        def flush_redis(client=None):
            return client


        def produce_message(topic, value, key=None):
            return (topic, key, value)


        def run_clickhouse_query(sql, params=None):
            return []


        def store_event(data, project_id):
            return {"project_id": project_id, **data}
    ''',
    "acme/testutils/mixins/__init__.py": '''
        """Mixins for test cases."""

        from .assertions import AssertionsMixin
        from .crud import CrudTestsMixin, PaginationTestsMixin
        from .fixtures import Fixtures

        __all__ = ["AssertionsMixin", "CrudTestsMixin", "Fixtures", "PaginationTestsMixin"]
    ''',
    "acme/testutils/mixins/assertions.py": '''
        """Assertion helpers."""


        class AssertionsMixin:
            def assert_status(self, response, status):
                assert response.status_code == status, response.content

            def assert_keys(self, data, *keys):
                missing = [k for k in keys if k not in data]
                assert not missing, missing
    ''',
    "acme/testutils/mixins/fixtures.py": '''
        """Factory shortcuts available on database test cases as `self.create_*`."""

        from acme.testutils.factories import Factories


        class Fixtures:
            @property
            def organization(self):
                return self.create_organization(name="baz")

            @property
            def project(self):
                return self.create_project(organization=self.organization)

            def create_organization(self, **kwargs):
                return Factories.create_organization(**kwargs)

            def create_project(self, **kwargs):
                return Factories.create_project(**kwargs)

            def create_user(self, **kwargs):
                return Factories.create_user(**kwargs)

            def create_member(self, **kwargs):
                return Factories.create_member(**kwargs)
    ''',
    "acme/testutils/mixins/crud.py": '''
        """Test methods shared by CRUD endpoint tests (inherited by the test classes)."""


        class CrudTestsMixin:
            endpoint = None

            def test_list_returns_200(self):
                response = self.client.get(self.endpoint)
                assert response.status_code == 200

            def test_detail_returns_404_for_missing(self):
                response = self.client.get(f"{self.endpoint}0/")
                assert response.status_code == 404

            def test_create_requires_auth(self):
                self.client.logout()
                response = self.client.post(self.endpoint, data={})
                assert response.status_code == 401

            def test_delete_is_idempotent(self):
                first = self.client.delete(f"{self.endpoint}1/")
                second = self.client.delete(f"{self.endpoint}1/")
                assert first.status_code == second.status_code


        class PaginationTestsMixin:
            def test_pagination_cursor(self):
                response = self.client.get(self.endpoint, {"per_page": 1})
                assert "Link" in response

            def test_pagination_limit(self):
                response = self.client.get(self.endpoint, {"per_page": 1000})
                assert response.status_code == 400
    ''',
    "acme/testutils/factories.py": '''
        """Object factories used by test cases and fixtures."""

        import itertools

        _ids = itertools.count(1)


        class Factories:
            @staticmethod
            def create_organization(**kwargs):
                return {"id": next(_ids), "kind": "organization", **kwargs}

            @staticmethod
            def create_project(**kwargs):
                return {"id": next(_ids), "kind": "project", **kwargs}

            @staticmethod
            def create_user(**kwargs):
                return {"id": next(_ids), "kind": "user", **kwargs}

            @staticmethod
            def create_member(**kwargs):
                return {"id": next(_ids), "kind": "member", **kwargs}
    ''',
    "acme/testutils/cases/__init__.py": '''
        """Base test cases. Import them from here (or from `acme.testutils`)."""

        from .api import APITestCase, APITransactionTestCase
        from .db import TestCase, TransactionTestCase
        from .kafka import KafkaTestCase
        from .redis import RedisTestCase
        from .snuba import MetricsTestCase, SnubaTestCase
        from .unit import UnitTestCase

        __all__ = [
            "APITestCase",
            "APITransactionTestCase",
            "KafkaTestCase",
            "MetricsTestCase",
            "RedisTestCase",
            "SnubaTestCase",
            "TestCase",
            "TransactionTestCase",
            "UnitTestCase",
        ]
    ''',
    "acme/testutils/cases/db.py": '''
        """Database test cases: every test runs in a transaction on PostgreSQL."""

        from acme.testutils.base import BaseTestCase
        from acme.testutils.helpers import connect_database
        from acme.testutils.mixins import AssertionsMixin, Fixtures


        class TestCase(Fixtures, AssertionsMixin, BaseTestCase):
            databases = "__all__"

            @classmethod
            def setUpClass(cls):
                super().setUpClass()
                cls.connection = connect_database()


        class TransactionTestCase(TestCase):
            serialized_rollback = True
    ''',
    "acme/testutils/cases/api.py": '''
        """API test cases: a logged-in client on top of the database test cases."""

        from . import db as _db


        class APITestCase(_db.TestCase):
            endpoint = None
            method = "get"

            def setUp(self):
                super().setUp()
                self.user = self.create_user(email="admin@localhost")
                self.client = {"user": self.user}

            def get_response(self, *args, **params):
                return getattr(self.client, self.method)(self.endpoint, *args, **params)


        class APITransactionTestCase(_db.TransactionTestCase, APITestCase):
            pass
    ''',
    "acme/testutils/cases/unit.py": '''
        """Unit test cases: no database, no network."""

        from ..base import SimpleTestCase
        from ..mixins.assertions import AssertionsMixin


        class UnitTestCase(AssertionsMixin, SimpleTestCase):
            pass
    ''',
    "acme/testutils/cases/redis.py": '''
        """Test cases on a real Redis."""

        from acme.testutils.cases.unit import UnitTestCase as _UnitTestCase


        class RedisTestCase(_UnitTestCase):
            def setUp(self):
                super().setUp()
                self.redis = {}
    ''',
    "acme/testutils/cases/kafka.py": '''
        """Test cases on a real Kafka broker."""

        from .unit import UnitTestCase


        class KafkaTestCase(UnitTestCase):
            topic = "events"
    ''',
    "acme/testutils/cases/snuba.py": '''
        """Test cases that write events through Snuba (ClickHouse, Kafka, Redis behind it)."""

        from acme.testutils.cases.api import APITestCase
        from acme.testutils.helpers import store_event as _store_event


        class SnubaTestCase(APITestCase):
            def store_event(self, data, project_id):
                return _store_event(data, project_id)


        class MetricsTestCase(SnubaTestCase):
            metrics_enabled = True
    ''',
    "acme/testutils/pytest/__init__.py": '''
        """Pytest plugins of the suite."""
    ''',
    "acme/testutils/pytest/hooks.py": '''
        """Pytest hooks (loaded through `pytest_plugins`)."""


        def pytest_configure(config):
            config.addinivalue_line("markers", "acme: internal")
    ''',
}


# Per-app and per-package test cases (levels 4-7 of the base-class chains), written with
# str.format: {app}, {sub}, {A} (the app in CamelCase), {S} (app and package in CamelCase).
APP_TESTING = {
    "acme/{app}/testing/__init__.py": '''
        """Test cases of the {app} app (re-exported)."""

        from acme.{app}.testing.cases import {A}TestCase, {A}UnitTestCase
        from .endpoints import {A}EndpointTestCase as {A}EndpointTestCase

        __all__ = ["{A}EndpointTestCase", "{A}TestCase", "{A}UnitTestCase"]
    ''',
    "acme/{app}/testing/cases.py": '''
        """Base test cases of the {app} app."""

        from acme.testutils import APITestCase
        from acme.testutils.cases import UnitTestCase as _Unit


        class {A}TestCase(APITestCase):
            """Database test case with the {app} defaults."""

            app_label = "{app}"

            def setUp(self):
                super().setUp()
                self.{app}_options = {{"enabled": True}}


        class {A}UnitTestCase(_Unit):
            app_label = "{app}"
    ''',
    "acme/{app}/testing/endpoints.py": '''
        """Endpoint test cases of the {app} app."""

        from .cases import {A}TestCase as Base{A}TestCase


        class {A}EndpointTestCase(Base{A}TestCase):
            endpoint = "/api/0/{app}/"

            def get_success_response(self, *args, **params):
                response = self.get_response(*args, **params)
                assert response.status_code == 200
                return response
    ''',
}
SUB_TESTING = (
    "acme/{app}/{sub}/testing.py",
    '''
        """Test cases for {app}.{sub}."""

        import acme.{app}.testing as app_testing
        from acme.{app}.testing import endpoints as ep


        class {S}TestCase(ep.{A}EndpointTestCase):
            endpoint = "/api/0/{app}/{sub}/"


        class {S}IntegrationTestCase({S}TestCase):
            def setUp(self):
                super().setUp()
                self.integration = True


        class {S}UnitTestCase(app_testing.{A}UnitTestCase):
            pass


        class {S}HelperTestCase({S}UnitTestCase):
            def build(self, **kwargs):
                return dict(kwargs)
    ''',
)


# ---------------------------------------------------------------------------------------
# Source modules
# ---------------------------------------------------------------------------------------


@dataclass
class SourceModule:
    dotted: str
    classes: list[str]
    functions: list[str]


class CodeWriter:
    """Writes plausible Python bodies (the bulk of the source tree)."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng

    def expr(self, names: list[str]) -> str:
        r = self.rng
        choice = r.randrange(10)
        a = r.choice(names)
        if choice == 0:
            return f"{a}.get({r.choice(ATTRS)!r}, {r.randint(0, 100)})"
        if choice == 1:
            return f"[item for item in {a} if item is not None]"
        if choice == 2:
            return f'f"{{{a}}}:{r.choice(NOUNS)}"'
        if choice == 3:
            return f"len({a}) + {r.randint(1, 9)}"
        if choice == 4:
            return f"{{{r.choice(ATTRS)!r}: {a}, {r.choice(ATTRS)!r}: {r.choice(names)}}}"
        if choice == 5:
            return f"{a} or {r.choice(('None', '0', '[]', '{}', repr(r.choice(NOUNS))))}"
        if choice == 6:
            return f"sorted({a}, key=lambda x: x.{r.choice(ATTRS)})"
        if choice == 7:
            return f"{r.choice(VERBS)}_{r.choice(NOUNS)}({a})"
        if choice == 8:
            return f"{a}.{r.choice(ATTRS)}"
        return f"max({a}, {r.choice(names)})"

    def block(self, names: list[str], indent: str, n: int, depth: int = 0) -> list[str]:
        r = self.rng
        out: list[str] = []
        local = list(names)
        for _ in range(n):
            kind = r.randrange(12)
            var = (
                f"{r.choice(NOUNS)}_{r.choice(('ids', 'count', 'map', 'items', 'value', 'state'))}"
            )
            if kind <= 3 or depth >= 2:
                out.append(f"{indent}{var} = {self.expr(local)}")
                local.append(var)
            elif kind == 4:
                out.append(
                    f"{indent}# {r.choice(VERBS).capitalize()} the {r.choice(NOUNS)} "
                    f"before the {r.choice(NOUNS)} is {past(r.choice(VERBS))}."
                )
            elif kind == 5:
                out.append(f"{indent}if {r.choice(local)} is None:")
                out.extend(self.block(local, indent + "    ", r.randint(1, 2), depth + 1))
            elif kind == 6:
                it = r.choice(NOUNS)
                out.append(f"{indent}for {it} in {r.choice(local)}:")
                out.extend(self.block([*local, it], indent + "    ", r.randint(1, 3), depth + 1))
            elif kind == 7:
                out.append(f"{indent}try:")
                out.extend(self.block(local, indent + "    ", r.randint(1, 2), depth + 1))
                out.append(f"{indent}except (KeyError, ValueError) as exc:")
                out.append(
                    f'{indent}    logger.warning("{r.choice(NOUNS)}.{r.choice(VERBS)}'
                    f'_failed", extra={{"error": str(exc)}})'
                )
            elif kind == 8:
                out.append(f"{indent}if {r.choice(local)} and not {r.choice(local)}:")
                out.append(f"{indent}    return {self.expr(local)}")
            elif kind == 9:
                out.append(
                    f'{indent}logger.info("{r.choice(NOUNS)}.{r.choice(VERBS)}", '
                    f'extra={{"{r.choice(ATTRS)}": {r.choice(local)}}})'
                )
            elif kind == 10:
                ctx = r.choice(("transaction.atomic()", "metrics.timer(__name__)", "lock"))
                out.append(f"{indent}with {ctx}:")
                out.extend(self.block(local, indent + "    ", r.randint(1, 2), depth + 1))
            else:
                out.append(f"{indent}{var} = {{k: v for k, v in {r.choice(local)}.items() if v}}")
                local.append(var)
        if all(line.lstrip().startswith("#") for line in out):
            out.append(f"{indent}{r.choice(NOUNS)}_value = {self.expr(local)}")
        return out

    def function(self, name: str, indent: str, method: bool) -> list[str]:
        r = self.rng
        params = [r.choice(NOUNS) for _ in range(r.randint(1, 3))]
        params = list(dict.fromkeys(params))
        sig = ", ".join((["self"] if method else []) + params)
        if r.random() < 0.4:
            sig += f", {r.choice(ATTRS)}=None"
        lines = [f"{indent}def {name}({sig}):"]
        if r.random() < 0.6:
            lines.append(
                f'{indent}    """{r.choice(VERBS).capitalize()} the {r.choice(NOUNS)} '
                f'for the given {params[0]}."""'
            )
        names = [*params, *(["self"] if method else [])]
        lines.extend(self.block(names, indent + "    ", r.randint(2, 9)))
        lines.append(f"{indent}    return {self.expr(names)}")
        return lines


# ---------------------------------------------------------------------------------------
# Fixtures and the conftest graph (the generator's own model of pytest's resolution)
# ---------------------------------------------------------------------------------------


@dataclass
class Fx:
    name: str
    deps: list[str]
    calls: frozenset[str] = NONE  # services reached through calls in the body
    autouse: bool = False
    func: str = ""  # the function name when renamed with name=...

    def render(
        self,
        indent: str = "",
        method: bool = False,
        body: list[str] | None = None,
        scope: str | None = None,
    ) -> list[str]:
        args = []
        if scope:
            args.append(f'scope="{scope}"')
        if self.autouse:
            args.append("autouse=True")
        if self.func:
            args.append(f'name="{self.name}"')
        deco = f"@pytest.fixture({', '.join(args)})" if args else "@pytest.fixture"
        params = ", ".join((["self"] if method else []) + self.deps)
        lines = [f"{indent}{deco}", f"{indent}def {self.func or self.name}({params}):"]
        if body is None:
            body = [f'return {{"fixture": {self.name!r}}}']
            if self.deps:
                body = [
                    f'value = {{"name": {self.name!r}, "deps": [{", ".join(self.deps)}]}}',
                    "return value",
                ]
        lines.extend(f"{indent}    {b}" for b in body)
        return lines


Levels = list  # list[dict[str, Fx]], closest first


def closure(levels: Levels, names: list[str]) -> frozenset[str]:
    """Services needed by requesting `names` from the vantage `levels` (pytest semantics)."""
    services: set[str] = set()
    seen: set[tuple[str, int]] = set()
    stack = [(n, 0) for n in names]
    while stack:
        name, start = stack.pop()
        if (name, start) in seen:
            continue
        seen.add((name, start))
        if name in SERVICE_FIXTURES:
            services.add(SERVICE_FIXTURES[name])
        for i in range(start, len(levels)):
            fx = levels[i].get(name)
            if fx is not None:
                services |= fx.calls
                stack.extend((d, i + 1 if d == name else 0) for d in fx.deps)
                break
    return frozenset(services)


def autouse_names(levels: Levels) -> list[str]:
    return list(dict.fromkeys(n for lvl in levels for n, fx in lvl.items() if fx.autouse))


# ---------------------------------------------------------------------------------------
# The generator
# ---------------------------------------------------------------------------------------


@dataclass
class Base:
    """A test base class a test module can subclass, and how to reach it."""

    name: str
    services: frozenset[str]
    imports: list[tuple[str, str]]  # (import line, expression) alternatives
    unittest: bool = True


@dataclass
class TestDir:
    rel: str
    app: str
    sub: str
    fixtures: dict[str, Fx] = field(default_factory=dict)
    parent: TestDir | None = None
    has_conftest: bool = False
    n_files: int = 0

    def levels(self) -> Levels:
        out = []
        d: TestDir | None = self
        while d is not None:
            if d.fixtures:
                out.append(d.fixtures)
            d = d.parent
        return out


FILE_KINDS = (
    ("pg_unittest", 0.45),
    ("pg_fixtures", 0.175),
    ("pg_marked", 0.035),
    ("none_func", 0.16),
    ("none_unittest", 0.092),
    ("redis", 0.02),
    ("kafka", 0.007),
    ("clickhouse", 0.005),
    ("snuba", 0.014),
)


class Generator:
    def __init__(self, out: Path, seed: int, scale: float) -> None:
        self.out = out
        self.rng = random.Random(seed)
        self.code = CodeWriter(self.rng)
        self.scale = scale
        self.n_src = max(300, round(6000 * scale))
        self.n_test_files = max(120, round(2500 * scale))
        n_apps = max(8, round(len(APPS) * scale))
        self.apps = list(APPS[: n_apps - len(SPECIAL_APPS)]) + list(SPECIAL_APPS)
        self.src_files = 0
        self.modules: dict[str, list[SourceModule]] = {}
        self.tests: dict[str, list[str]] = {}  # test id -> services
        self.plugin: dict[str, Fx] = {}
        self.bases: dict[str, list[Base]] = {}  # profile -> bases
        self.sub_bases: dict[tuple[str, str], dict[str, list[Base]]] = {}
        self.bytes = 0
        self.files = 0

    # -- writing ---------------------------------------------------------------------

    def write(self, rel: str, text: str) -> None:
        path = self.out / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        data = text.encode()
        path.write_bytes(data)
        if rel.endswith(".py"):
            self.bytes += len(data)
            self.files += 1
        if rel.startswith("acme/"):
            self.src_files += 1

    # -- framework: acme/testutils -------------------------------------------------------

    def framework(self) -> None:
        for rel, text in FRAMEWORK.items():
            self.write(rel, textwrap.dedent(text).lstrip("\n"))
        self.plugin_fixtures()

    def plugin_fixtures(self) -> None:
        fx = [
            Fx("pg_conn", []),
            Fx("redis_client", []),
            Fx("kafka_producer", []),
            Fx("clickhouse_client", []),
            Fx("snuba_session", ["kafka_producer", "clickhouse_client"]),
            Fx("default_org", ["pg_conn"]),
            Fx("default_user", ["pg_conn"]),
            Fx("default_project", ["default_org"]),
            Fx("default_team", ["default_org", "default_user"]),
            Fx("api_client", []),
            Fx("authed_client", ["api_client", "default_user"]),
            Fx("frozen_time", []),
            Fx("raw_payload", []),
            Fx("event_data", ["raw_payload"]),
            Fx("cache_backend", ["redis_client"]),
            Fx("rate_limiter", ["cache_backend"], func="_rate_limiter_fixture"),
            Fx("event_stream", ["kafka_producer"]),
            Fx("metrics_store", ["clickhouse_client"]),
            Fx("stored_event", ["default_project", "event_data"], calls=frozenset({"snuba"})),
            Fx("snuba_project", ["default_project", "snuba_session"]),
        ]
        bodies = {
            "pg_conn": ["conn = connect_database()", "yield conn"],
            "redis_client": ['client = {"db": 9}', "flush_redis(client)", "yield client"],
            "stored_event": ['return store_event(event_data, project_id=default_project["id"])'],
        }
        # flush_redis in redis_client's body: a service call inside a service fixture (redundant).
        self.plugin = {f.name: f for f in fx}
        self.plugin["redis_client"].calls = frozenset({"redis"})
        lines = [
            '"""Fixtures of the whole suite (loaded through `pytest_plugins`)."""',
            "",
            "import pytest",
            "",
            "from acme.testutils.helpers import connect_database, flush_redis, store_event",
            "",
        ]
        for f in fx:
            lines += ["", *f.render(body=bodies.get(f.name)), ""]
        self.write("acme/testutils/pytest/fixtures.py", "\n".join(lines).rstrip() + "\n")

    # -- the per-app test case hierarchy ----------------------------------------------------

    def app_testing(self, app: str) -> None:
        names = {"app": app, "A": camel(app)}
        for rel, text in APP_TESTING.items():
            self.write(rel.format(**names), textwrap.dedent(text).lstrip("\n").format(**names))

    def sub_testing(self, app: str, sub: str) -> None:
        A, S = camel(app), camel(app, sub)
        names = {"app": app, "sub": sub, "A": A, "S": S}
        rel, text = SUB_TESTING
        self.write(rel.format(**names), textwrap.dedent(text).lstrip("\n").format(**names))
        ut = "from acme.testutils import cases"
        pg = [
            Base(
                "APITestCase",
                PG,
                [
                    ("from acme.testutils import APITestCase", "APITestCase"),
                    (ut, "cases.APITestCase"),
                    ("import acme.testutils.cases as tc", "tc.APITestCase"),
                ],
            ),
            Base(
                "TestCase",
                PG,
                [
                    ("from acme.testutils.cases import TestCase", "TestCase"),
                    ("from acme.testutils import TestCase as DBTestCase", "DBTestCase"),
                ],
            ),
            Base(
                "TransactionTestCase",
                PG,
                [("from acme.testutils.cases import TransactionTestCase", "TransactionTestCase")],
            ),
            Base(
                f"{A}TestCase",
                PG,
                [(f"from acme.{app}.testing import {A}TestCase", f"{A}TestCase")],
            ),
            Base(
                f"{A}EndpointTestCase",
                PG,
                [
                    (f"from acme.{app}.testing import {A}EndpointTestCase", f"{A}EndpointTestCase"),
                    (
                        f"from acme.{app}.testing.endpoints "
                        f"import {A}EndpointTestCase as EndpointBase",
                        "EndpointBase",
                    ),
                ],
            ),
            Base(
                f"{S}TestCase",
                PG,
                [
                    (f"from acme.{app}.{sub}.testing import {S}TestCase", f"{S}TestCase"),
                    (
                        f"from acme.{app}.{sub} import testing as sub_testing",
                        f"sub_testing.{S}TestCase",
                    ),
                ],
            ),
            Base(
                f"{S}IntegrationTestCase",
                PG,
                [
                    (
                        f"from acme.{app}.{sub}.testing import {S}IntegrationTestCase",
                        f"{S}IntegrationTestCase",
                    )
                ],
            ),
        ]
        none = [
            Base(
                "UnitTestCase", NONE, [("from acme.testutils import UnitTestCase", "UnitTestCase")]
            ),
            Base(
                f"{A}UnitTestCase",
                NONE,
                [(f"from acme.{app}.testing import {A}UnitTestCase", f"{A}UnitTestCase")],
            ),
            Base(
                f"{S}UnitTestCase",
                NONE,
                [(f"from acme.{app}.{sub}.testing import {S}UnitTestCase", f"{S}UnitTestCase")],
            ),
            Base(
                f"{S}HelperTestCase",
                NONE,
                [
                    (
                        f"from acme.{app}.{sub} import testing as sub_testing",
                        f"sub_testing.{S}HelperTestCase",
                    )
                ],
            ),
        ]
        self.sub_bases[(app, sub)] = {
            "pg": pg,
            "none": none,
            "redis": [
                Base(
                    "RedisTestCase",
                    frozenset({"redis"}),
                    [
                        ("from acme.testutils.cases import RedisTestCase", "RedisTestCase"),
                        (ut, "cases.RedisTestCase"),
                    ],
                )
            ],
            "kafka": [
                Base(
                    "KafkaTestCase",
                    frozenset({"kafka"}),
                    [("from acme.testutils.cases.kafka import KafkaTestCase", "KafkaTestCase")],
                )
            ],
            "snuba": [
                Base(
                    "SnubaTestCase",
                    frozenset({"postgres", "snuba"}),
                    [
                        ("from acme.testutils.cases import SnubaTestCase", "SnubaTestCase"),
                        ("from acme.testutils import MetricsTestCase", "MetricsTestCase"),
                    ],
                )
            ],
        }

    # -- generic source modules ---------------------------------------------------------

    def source_module(self, app: str, sub: str, modname: str) -> None:
        r = self.rng
        dotted = f"acme.{app}.{sub}.{modname}"
        target = r.randint(100, 360)
        noun = modname.split("_")[0]
        lines = [f'"""{camel(noun)} {modname.split("_", 1)[1]} for `acme.{app}.{sub}`.', ""]
        lines.append(
            f"{third(r.choice(VERBS)).capitalize()} {noun}s and their {r.choice(NOUNS)}s; "
            f"see also `acme.{app}.{r.choice(SUBS)}`."
        )
        lines += ['"""', "", "from __future__ import annotations", ""]
        lines += sorted(set(r.sample(STDLIB_IMPORTS, r.randint(2, 5))) | {"import logging"})
        lines.append("")
        # Imports of earlier modules: same package, same app, or the core of another app.
        imported: list[str] = []
        same_sub = self.modules.get(f"{app}.{sub}", [])
        same_app = [m for k, v in self.modules.items() if k.startswith(app + ".") for m in v[-8:]]
        other = [m for v in list(self.modules.values())[:20] for m in v[:2]]
        for pool, form in ((same_sub, "rel"), (same_app, "abs"), (other, "mod")):
            if not pool or r.random() < 0.25:
                continue
            mod = r.choice(pool)
            if form == "rel" and mod.classes:
                name = r.choice(mod.classes)
                lines.append(f"from .{mod.dotted.rsplit('.', 1)[1]} import {name}")
                imported.append(name)
            elif form == "abs" and mod.functions:
                name = r.choice(mod.functions)
                lines.append(f"from {mod.dotted} import {name}")
                imported.append(name)
            else:
                alias = mod.dotted.rsplit(".", 1)[1] + "_mod"
                lines.append(f"import {mod.dotted} as {alias}")
                imported.append(alias)
        if r.random() < 0.2:
            lines += [
                "from typing import TYPE_CHECKING",
                "",
                "if TYPE_CHECKING:",
                f"    from acme.{app}.{sub} import {r.choice(MODULE_KINDS)}  # noqa: F401",
            ]
        lines += ["", "logger = logging.getLogger(__name__)", ""]
        for _ in range(r.randint(1, 4)):
            const = f"{r.choice(NOUNS).upper()}_{r.choice(('TIMEOUT', 'LIMIT', 'TTL', 'BATCH'))}"
            lines.append(f"{const} = {r.randint(1, 600)}")
        classes: list[str] = []
        functions: list[str] = []
        while len(lines) < target:
            lines += ["", ""]
            if r.random() < 0.45:
                cname = camel(r.choice(NOUNS)) + r.choice(CLASS_KINDS)
                if cname in classes:
                    cname += str(len(classes))
                bases = [n for n in imported if n[:1].isupper()]
                base = r.choice(bases) if bases and r.random() < 0.4 else "object"
                lines.append(f"class {cname}({base}):" if base != "object" else f"class {cname}:")
                lines.append(
                    f'    """{third(r.choice(VERBS)).capitalize()} {r.choice(NOUNS)}s for {app}."""'
                )
                lines += ["", f"    {r.choice(ATTRS)} = {r.randint(0, 99)}"]
                for _ in range(r.randint(2, 6)):
                    lines.append("")
                    mname = f"{r.choice(VERBS)}_{r.choice(NOUNS)}"
                    if r.random() < 0.2:
                        mname = "_" + mname
                    lines += self.code.function(mname, "    ", method=True)
                classes.append(cname)
            else:
                fname = f"{r.choice(VERBS)}_{r.choice(NOUNS)}_{r.choice(NOUNS)}"
                if fname in functions:
                    fname += f"_{len(functions)}"
                lines += self.code.function(fname, "", method=False)
                functions.append(fname)
        self.write(f"acme/{app}/{sub}/{modname}.py", "\n".join(lines) + "\n")
        self.modules.setdefault(f"{app}.{sub}", []).append(SourceModule(dotted, classes, functions))

    # -- the tests tree -----------------------------------------------------------------

    def conftest(self, d: TestDir, doc: str, extra: list[str] | None = None) -> None:
        lines = [f'"""{doc}"""', "", "import pytest", ""]
        if extra:
            lines = [f'"""{doc}"""', "", "import pytest", "", *extra, ""]
        for f in d.fixtures.values():
            body = None
            if f.calls:
                call = next(c for c, s in SERVICE_CALLS.items() if s in f.calls)
                body = [f"{call}({', '.join(f.deps) or 'None'})", "return True"]
                lines.insert(3, f"from acme.testutils.helpers import {call}")
            lines += ["", *f.render(body=body), ""]
        self.write(f"{d.rel}/conftest.py", "\n".join(lines).rstrip() + "\n")
        d.has_conftest = True

    def test_tree(self) -> list[TestDir]:
        r = self.rng
        w = self.write
        w(
            "conftest.py",
            '"""Repository root conftest: hooks only."""\n\n\n'
            'def pytest_report_header(config):\n    return "acme test suite"\n',
        )
        w("tests/__init__.py", "")
        root = TestDir("tests", "", "")
        root.fixtures = {
            "_reset_global_state": Fx("_reset_global_state", [], autouse=True),
            "_isolate_environment": Fx("_isolate_environment", ["monkeypatch"], autouse=True),
            "sample_payload": Fx("sample_payload", []),
            "feature_flags": Fx("feature_flags", ["sample_payload"]),
            "task_runner": Fx("task_runner", []),
            "capture_signals": Fx("capture_signals", []),
        }
        self.conftest(
            root,
            "Suite-wide fixtures; the plugin modules are loaded from here.",
            ['pytest_plugins = ["acme.testutils.pytest.fixtures", "acme.testutils.pytest.hooks"]'],
        )
        w("tests/acme/__init__.py", "")
        top = TestDir("tests/acme", "", "", parent=root)
        top.fixtures = {
            "acme_settings": Fx("acme_settings", []),
            "_clear_caches": Fx("_clear_caches", [], autouse=True),
        }
        self.conftest(top, "Fixtures of the acme package tests.")
        leaves: list[TestDir] = []
        for app in self.apps:
            adir = TestDir(f"tests/acme/{app}", app, "", parent=top)
            w(f"{adir.rel}/__init__.py", "")
            special = app in SPECIAL_APPS
            if special or r.random() < 0.85:
                adir.fixtures = {
                    f"{app}_config": Fx(f"{app}_config", []),
                    f"{app}_factory": Fx(f"{app}_factory", ["default_project"]),
                    f"{app}_client": Fx(f"{app}_client", ["api_client", f"{app}_config"]),
                }
                if not special and r.random() < 0.25:
                    # A closer `api_client` that needs the database: overrides the plugin's.
                    adir.fixtures["api_client"] = Fx("api_client", ["default_org"])
                if r.random() < 0.3:
                    # A same-name override that extends the parent fixture.
                    adir.fixtures["sample_payload"] = Fx("sample_payload", ["sample_payload"])
                if not special and r.random() < 0.06:
                    adir.fixtures[f"_{app}_db"] = Fx(f"_{app}_db", ["pg_conn"], autouse=True)
                self.conftest(adir, f"Fixtures of the {app} tests.")
            subs = r.sample(SUBS, r.randint(3, 7))
            if app == "streaming":
                subs = ["kafka", *subs[:3]]
            if app == "analytics":
                subs = ["clickhouse", *subs[:3]]
            for sub in subs:
                sdir = TestDir(f"{adir.rel}/{sub}", app, sub, parent=adir)
                w(f"{sdir.rel}/__init__.py", "")
                factory = f"{app}_factory"
                if factory not in adir.fixtures:
                    factory = "default_project"
                if sub == "kafka":
                    sdir.fixtures = {
                        "topic_name": Fx("topic_name", []),
                        "kafka_consumer": Fx("kafka_consumer", ["kafka_producer"]),
                    }
                    self.conftest(sdir, "Fixtures of the Kafka consumer tests.")
                elif sub == "clickhouse":
                    sdir.fixtures = {
                        "ch_table": Fx("ch_table", ["clickhouse_client"]),
                        "ch_rows": Fx("ch_rows", []),
                    }
                    self.conftest(sdir, "Fixtures of the ClickHouse tests.")
                elif r.random() < 0.45:
                    sdir.fixtures = {
                        f"{sub}_data": Fx(f"{sub}_data", [factory]),
                        f"{sub}_payload": Fx(f"{sub}_payload", ["sample_payload"]),
                    }
                    if r.random() < 0.15:
                        sdir.fixtures[f"_{sub}_flags"] = Fx(
                            f"_{sub}_flags", ["feature_flags"], autouse=True
                        )
                    if r.random() < 0.08 and app not in SPECIAL_APPS:
                        sdir.fixtures[f"_{sub}_db"] = Fx(
                            f"_{sub}_db", ["default_org"], autouse=True
                        )
                    self.conftest(sdir, f"Fixtures of the {app}.{sub} tests.")
                leaves.append(sdir)
                if sub not in ("kafka", "clickhouse") and r.random() < 0.3:
                    nested = r.choice(NESTED)
                    ndir = TestDir(f"{sdir.rel}/{nested}", app, sub, parent=sdir)
                    w(f"{ndir.rel}/__init__.py", "")
                    if r.random() < 0.5:
                        dep = f"{sub}_data" if f"{sub}_data" in sdir.fixtures else "default_org"
                        ndir.fixtures = {
                            f"{nested}_thing": Fx(f"{nested}_thing", [dep]),
                            f"{nested}_input": Fx(f"{nested}_input", []),
                        }
                        self.conftest(ndir, f"Fixtures of the {app}.{sub} {nested} tests.")
                    leaves.append(ndir)
        return leaves

    # -- test files -----------------------------------------------------------------------

    def run(self) -> dict:
        t0 = time.perf_counter()
        r = self.rng
        self.framework()
        for app in self.apps:
            self.write(f"acme/{app}/__init__.py", f'"""The {app} app."""\n')
            self.app_testing(app)
        leaves = self.test_tree()
        # Source packages: one per test leaf's (app, sub), plus extra subpackages.
        pkgs = list(dict.fromkeys((d.app, d.sub) for d in leaves))
        for app, sub in pkgs:
            self.write(f"acme/{app}/{sub}/__init__.py", f'"""{app}.{sub}."""\n')
            self.sub_testing(app, sub)
        remaining = self.n_src - self.src_files
        per_pkg = remaining / len(pkgs)
        names_used: set[str] = set()
        made = 0
        for i, (app, sub) in enumerate(pkgs):
            want = round(per_pkg * (i + 1)) - made
            for _ in range(want):
                while True:
                    name = f"{r.choice(NOUNS)}_{r.choice(MODULE_KINDS)}"
                    if (app, sub, name) not in names_used:
                        names_used.add((app, sub, name))
                        break
                self.source_module(app, sub, name)
                made += 1
        # Test files: spread over the leaves (the special directories get a fixed share).
        weights = [0.0 if d.rel in DIR_SHARES else r.uniform(0.3, 2.0) for d in leaves]
        spread = sum(weights) / (1 - sum(DIR_SHARES.values()))
        weights = [
            spread * DIR_SHARES[d.rel] if d.rel in DIR_SHARES else w
            for d, w in zip(leaves, weights, strict=True)
        ]
        total = sum(weights)
        counts = [w * self.n_test_files / total for w in weights]
        ints = [int(c) for c in counts]
        for i in sorted(range(len(ints)), key=lambda i: counts[i] - ints[i], reverse=True)[
            : self.n_test_files - sum(ints)
        ]:
            ints[i] += 1
        # File kinds by quota (not independent draws), so the shape varies little by seed.
        n_plain = sum(n for d, n in zip(leaves, ints, strict=True) if not self.path_service(d))
        kinds = quota(FILE_KINDS, n_plain)
        r.shuffle(kinds)
        test_names: set[str] = set()
        for d, n in zip(leaves, ints, strict=True):
            for _ in range(n):
                while True:
                    fname = f"test_{r.choice(NOUNS)}_{r.choice(MODULE_KINDS)}"
                    if (d.rel, fname) not in test_names:
                        test_names.add((d.rel, fname))
                        break
                path_svc = self.path_service(d)
                if path_svc:
                    kind = r.choice(("none_func", "none_func", "none_unittest"))
                else:
                    kind = kinds.pop()
                TestFile(self, d, f"{d.rel}/{fname}.py", kind, path_svc).build()
        self.write("pyproject.toml", PYPROJECT)
        return self.manifest(time.perf_counter() - t0)

    @staticmethod
    def path_service(d: TestDir) -> str | None:
        return next(
            (s for p, s in PATH_SERVICES.items() if d.rel == p or d.rel.startswith(p + "/")), None
        )

    def manifest(self, seconds: float) -> dict:
        per_service = dict.fromkeys(SERVICES, 0)
        tiers: dict[str, int] = {}
        for svcs in self.tests.values():
            for s in svcs:
                per_service[s] += 1
            t = tier_name(svcs)
            tiers[t] = tiers.get(t, 0) + 1
        return {
            "generator_version": GEN_VERSION,
            "scale": self.scale,
            "files": self.files,  # .py files (bytes: their size)
            "source_files": self.src_files,
            "test_files": self.n_test_files,
            "bytes": self.bytes,
            "tests_total": len(self.tests),
            "services": per_service,
            "tiers": dict(sorted(tiers.items(), key=lambda kv: -kv[1])),
            "seconds": round(seconds, 2),
            "tests": self.tests,
        }


def quota(weights, n: int) -> list[str]:
    """`n` items split by `weights` with the largest-remainder method."""
    total = sum(w for _, w in weights)
    exact = [(k, w * n / total) for k, w in weights]
    counts = {k: int(x) for k, x in exact}
    for k, _ in sorted(exact, key=lambda kx: kx[1] - int(kx[1]), reverse=True)[
        : n - sum(counts.values())
    ]:
        counts[k] += 1
    return [k for k, c in counts.items() for _ in range(c)]


def tier_name(services) -> str:
    s = sorted(services)
    if not s:
        return "no_services"
    if len(s) == 1:
        return f"{s[0]}_only"
    return "_".join(s)


class TestFile:
    """One test module: its code and, for every test in it, the services it needs."""

    def __init__(
        self, gen: Generator, d: TestDir, rel: str, kind: str, path_svc: str | None
    ) -> None:
        self.gen = gen
        self.r = gen.rng
        self.d = d
        self.rel = rel
        self.kind = kind
        self.imports: dict[str, None] = {}
        self.body: list[str] = []
        self.module_fx: dict[str, Fx] = {}
        self.levels: Levels = [self.module_fx, *d.levels(), gen.plugin]
        self.file_svc: set[str] = {path_svc} if path_svc else set()
        self.file_marks: list[str] = []
        self.names: set[str] = set()
        self.module_tests: set[str] = set()
        self.bases = gen.sub_bases[(d.app, d.sub)]
        self.pool_cache: dict[tuple, list[str]] = {}

    # -- helpers ----------------------------------------------------------------------

    def svc(self, names: list[str], levels: Levels | None = None) -> frozenset[str]:
        return closure(levels or self.levels, names)

    def pool(self, target: frozenset[str], levels: Levels | None = None) -> list[str]:
        """Visible fixture names whose closure needs exactly `target`."""
        levels = levels or self.levels
        key = (tuple(levels[0]), len(levels), len(self.module_fx), target)
        if key not in self.pool_cache:
            names = list(dict.fromkeys(n for lvl in levels for n in lvl if not n.startswith("_")))
            self.pool_cache[key] = [
                n for n in names if n not in SERVICE_FIXTURES and self.svc([n], levels) == target
            ]
        return self.pool_cache[key]

    def test_name(self, taken: set[str]) -> str:
        r = self.r
        while True:
            n = f"test_{r.choice(VERBS)}_{r.choice(NOUNS)}_{r.choice(TEST_QUALIFIERS)}"
            if n not in taken:
                taken.add(n)
                return n

    def class_name(self, suffix: str, prefix: str = "") -> str:
        while True:
            n = prefix + camel(self.r.choice(NOUNS), self.r.choice(CLASS_KINDS)) + suffix
            if n not in self.names:
                self.names.add(n)
                return n

    def imp(self, line: str) -> None:
        self.imports[line] = None

    def record(self, test_id: str, services) -> None:
        self.gen.tests[f"{self.rel}::{test_id}"] = sorted(set(services) | self.file_svc)

    def base(self, profile: str) -> Base:
        bases = self.bases[profile]
        if profile == "pg":
            # Deeper bases are the common case (test classes 5 to 8 levels deep).
            b = self.r.choices(bases, (1, 0.5, 0.3, 2, 3, 4, 3))[0]
        else:
            b = self.r.choice(bases)
        return b

    def use_base(self, b: Base) -> str:
        line, expr = self.r.choice(b.imports)
        self.imp(line)
        return expr

    def unittest_body(self, indent: str, db: bool = True) -> list[str]:
        r = self.r
        noun = r.choice(NOUNS)
        lines = []
        choice = r.randrange(4) if db else r.randrange(2, 4)
        if choice == 0:
            lines += [
                f'{noun} = self.create_project(name="{noun}-{r.randint(1, 999)}")',
                f"response = self.client.get(f\"/api/0/{noun}s/{{{noun}['id']}}/\")",
                "assert response.status_code == 200, response.content",
                f'assert response.data["{r.choice(ATTRS)}"] == {noun}["{r.choice(ATTRS)}"]',
            ]
        elif choice == 1:
            lines += [
                f'{noun} = self.create_organization(slug="{noun}")',
                f'self.assertEqual({noun}["slug"], "{noun}")',
                f'self.assertIn("id", {noun})',
            ]
        elif choice == 2:
            lines += [
                f"with self.assertRaises({r.choice(('ValueError', 'KeyError'))}):",
                f"    {r.choice(VERBS)}_{noun}({{}})",
            ]
        else:
            lines += [
                f'items = [{{"{r.choice(ATTRS)}": i}} for i in range({r.randint(2, 9)})]',
                "self.assertEqual(len(items), len(list(items)))",
                f'assert all("{r.choice(ATTRS)}" not in item for item in items) or items',
            ]
        if r.random() < 0.3:
            lines.insert(0, f"# Regression test for ACME-{r.randint(1000, 99999)}.")
        return [indent + ln for ln in lines]

    def pytest_body(self, params: list[str], indent: str) -> list[str]:
        r = self.r
        lines = []
        if params:
            p = r.choice(params)
            lines.append(f"result = {r.choice(VERBS)}_{r.choice(NOUNS)}({p})")
        else:
            lines.append(f"result = {r.choice(VERBS)}_{r.choice(NOUNS)}({r.randint(0, 50)})")
        lines.append(
            r.choice(
                (
                    "assert result is not None",
                    "assert result",
                    f'assert result == {{"{r.choice(ATTRS)}": {r.randint(0, 9)}}}',
                    "assert isinstance(result, dict)",
                )
            )
        )
        if r.random() < 0.4:
            lines.append(f'assert "{r.choice(ATTRS)}" in str(result)')
        return [indent + ln for ln in lines]

    # -- building blocks --------------------------------------------------------------------

    def unittest_class(
        self,
        profile: str,
        n: int,
        *,
        extra_deco: list[str] | None = None,
        class_svc: frozenset[str] = NONE,
        setup_call: str | None = None,
        snuba_calls: float = 0.0,
        method_marks: float = 0.0,
        inject: bool = False,
    ) -> None:
        r = self.r
        b = self.base(profile)
        expr = self.use_base(b)
        bases = [expr]
        inherited: list[str] = []
        if profile in ("pg", "snuba") and r.random() < 0.15:
            mixin = r.choice(("CrudTestsMixin", "PaginationTestsMixin"))
            self.imp(f"from acme.testutils.mixins import {mixin}")
            bases.insert(0, mixin)
            inherited = [
                "test_list_returns_200",
                "test_detail_returns_404_for_missing",
                "test_create_requires_auth",
                "test_delete_is_idempotent",
            ]
            if mixin == "PaginationTestsMixin":
                inherited = ["test_pagination_cursor", "test_pagination_limit"]
        if r.random() < 0.5:
            name = self.class_name("", prefix="Test")
        else:
            name = self.class_name(r.choice(("Test", "Tests", "EndpointTest", "Case")))
        svc = set(b.services) | class_svc
        lines = ["", ""]
        for deco in extra_deco or []:
            lines.append(deco)
            self.imp("import pytest")
        lines.append(f"class {name}({', '.join(bases)}):")
        if r.random() < 0.5:
            lines.append(
                f'    """Tests of the {r.choice(NOUNS)} {r.choice(CLASS_KINDS).lower()}."""'
            )
            lines.append("")
        if inherited:
            lines += [f'    endpoint = "/api/0/{r.choice(NOUNS)}s/"', ""]
        if setup_call or r.random() < 0.4:
            lines += ["    def setUp(self):", "        super().setUp()"]
            if setup_call:
                self.imp(f"from acme.testutils.helpers import {setup_call}")
                lines.append(
                    f'        self.{r.choice(NOUNS)} = {setup_call}("{r.choice(NOUNS)}", {{}})'
                    if setup_call != "flush_redis"
                    else "        flush_redis()"
                )
                svc.add(SERVICE_CALLS[setup_call])
            lines += [
                f"        self.{r.choice(NOUNS)} = self.create_{r.choice(('project', 'user'))}()",
                "",
            ]
        if inject:
            fxname = r.choice(self.pool(PG) or ["default_org"])
            self.imp("import pytest")
            lines += [
                "    @pytest.fixture(autouse=True)",
                f"    def _inject_fixtures(self, {fxname}):",
                f"        self.{fxname} = {fxname}",
                "",
            ]
            svc |= self.svc([fxname])
        taken = set(inherited)
        methods: list[tuple[str, frozenset[str]]] = []
        for _ in range(n):
            tname = self.test_name(taken)
            msvc: set[str] = set()
            if r.random() < 0.12:
                self.imp("from unittest import mock")
                target = (
                    f"acme.{self.d.app}.{r.choice(MODULE_KINDS)}."
                    f"{r.choice(VERBS)}_{r.choice(NOUNS)}"
                )
                lines.append(f'    @mock.patch("{target}")')
                sig = "self, mock_call"
            else:
                sig = "self"
            if r.random() < method_marks:
                mark = r.choice(("redis", "kafka", "clickhouse"))
                self.imp("import pytest")
                lines.append(f"    @pytest.mark.{mark}")
                msvc.add(mark)
            elif r.random() < 0.05:
                self.imp("import pytest")
                lines.append("    @pytest.mark.slow")
            lines.append(f"    def {tname}({sig}):")
            body = self.unittest_body("        ", db="postgres" in svc)
            if r.random() < snuba_calls:
                body.append(
                    '        self.store_event(data={"message": "boom"}, '
                    'project_id=self.project["id"])'
                )
                msvc.add("snuba")
            lines += body
            lines.append("")
            methods.append((tname, frozenset(msvc)))
        self.body += lines
        for tname, msvc in methods:
            self.record(f"{name}::{tname}", svc | msvc | self.module_autouse_svc())
        for tname in inherited:
            self.record(f"{name}::{tname}", svc | self.module_autouse_svc())

    def local_base_with_subclasses(self, profile: str) -> None:
        """A base class with tests of its own, and subclasses that inherit them."""
        r = self.r
        b = self.base(profile)
        expr = self.use_base(b)
        base_name = self.class_name("Tests", prefix="Base")
        taken: set[str] = set()
        tests = [self.test_name(taken) for _ in range(r.randint(2, 4))]
        lines = ["", "", f"class {base_name}({expr}):", f'    kind = "{r.choice(NOUNS)}"', ""]
        for t in tests:
            lines += [f"    def {t}(self):", *self.unittest_body("        "), ""]
        svc = set(b.services) | self.module_autouse_svc()
        for t in tests:
            self.record(f"{base_name}::{t}", svc)
        for _ in range(r.randint(1, 3)):
            sub = self.class_name("Test")
            own_taken = set(taken)
            own = [self.test_name(own_taken) for _ in range(r.randint(0, 2))]
            lines += ["", "", f"class {sub}({base_name}):", f'    kind = "{r.choice(NOUNS)}"', ""]
            for t in own:
                lines += [f"    def {t}(self):", *self.unittest_body("        "), ""]
            for t in dict.fromkeys(tests + own):
                self.record(f"{sub}::{t}", svc)
        self.body += lines

    def functions(
        self,
        targets: list[frozenset[str]],
        *,
        marker_for: frozenset[str] = NONE,
        cls: str | None = None,
        cls_svc: frozenset[str] = NONE,
        cls_fx: dict[str, Fx] | None = None,
        usefix: str | None = None,
    ) -> None:
        """Pytest-style tests (module functions, or methods of a plain class)."""
        r = self.r
        indent = "    " if cls else ""
        levels = [cls_fx, *self.levels] if cls_fx else self.levels
        lines: list[str] = []
        taken: set[str] = set() if cls else self.module_tests
        for target in targets:
            tname = self.test_name(taken)
            deco: list[str] = []
            params: list[str] = []
            svc: set[str] = set()
            via = r.random()
            if target and target <= marker_for:
                for m in sorted(target):
                    deco.append(f"@pytest.mark.{m}")
                svc |= target
            elif target and via < 0.1:
                # usefixtures with a fixture that needs exactly the target services
                pool = self.pool(frozenset(target), levels)
                if pool:
                    fx = r.choice(pool)
                    deco.append(f'@pytest.mark.usefixtures("{fx}")')
                    svc |= self.svc([fx], levels)
            if target and not svc:
                pool = self.pool(frozenset(target), levels)
                if pool:
                    fx = r.choice(pool)
                    params.append(fx)
                    svc |= self.svc([fx], levels)
                else:
                    deco.append(f"@pytest.mark.{sorted(target)[0]}")
                    svc |= {sorted(target)[0]}
                    for extra in sorted(target)[1:]:
                        deco.append(f"@pytest.mark.{extra}")
                        svc.add(extra)
            nonepool = self.pool(NONE, levels)
            for _ in range(r.choice((0, 0, 1, 1, 2))):
                if nonepool:
                    fx = r.choice(nonepool)
                    if fx not in params:
                        params.append(fx)
            if r.random() < 0.15:
                params.append(r.choice(("tmp_path", "monkeypatch", "caplog", "request")))
            if r.random() < 0.12:
                deco.append(
                    f'@pytest.mark.parametrize("value", [{r.randint(0, 5)}, '
                    f"{r.randint(6, 9)}, None])"
                )
                params.append("value")
            elif r.random() < 0.05:
                deco.append(
                    '@pytest.mark.parametrize(("given", "expected"), [(1, 2), (2, 4), (3, 6)])'
                )
                params += ["given", "expected"]
            if r.random() < 0.05:
                deco.append("@pytest.mark.slow")
            if deco:
                self.imp("import pytest")
            sig = ", ".join((["self"] if cls else []) + params)
            lines += [""] + ([""] if not cls else [])
            lines += [indent + dl for dl in deco]
            lines.append(f"{indent}def {tname}({sig}):")
            if r.random() < 0.3:
                lines.append(
                    f'{indent}    """{third(r.choice(VERBS)).capitalize()} '
                    f'the {r.choice(NOUNS)}."""'
                )
            lines += self.pytest_body(
                [p for p in params if p not in ("value", "given")], indent + "    "
            )
            fx_names = [p for p in params if p not in ("value", "given", "expected")]
            auto = autouse_names(levels)
            if usefix:
                fx_names.append(usefix)
            svc |= self.svc(fx_names + auto, levels) | cls_svc
            test_id = f"{cls}::{tname}" if cls else tname
            self.record(test_id, svc | self.module_mark_svc())
        self.body += lines

    def plain_class(
        self,
        targets: list[frozenset[str]],
        marker_for: frozenset[str] = NONE,
        class_mark: str | None = None,
        class_usefix: frozenset[str] | None = None,
        setup_call: str | None = None,
    ) -> None:
        r = self.r
        name = self.class_name("", prefix="Test") if r.random() < 0.75 else self.class_name("Tests")
        head = ["", ""]
        cls_svc: set[str] = set()
        usefix = None
        if class_mark:
            self.imp("import pytest")
            if r.random() < 0.5:
                head.append(f"@pytest.mark.{class_mark}")
                head.append(f"class {name}:")
            else:
                head.append(f"class {name}:")
                head.append(f"    pytestmark = [pytest.mark.{class_mark}]")
                head.append("")
            cls_svc.add(class_mark)
        elif class_usefix:
            pool = self.pool(frozenset(class_usefix))
            if pool:
                usefix = r.choice(pool)
                self.imp("import pytest")
                head.append(f'@pytest.mark.usefixtures("{usefix}")')
            head.append(f"class {name}:")
        else:
            head.append(f"class {name}:")
        cls_fx: dict[str, Fx] = {}
        if r.random() < 0.25:
            # A class-level fixture built on a visible one.
            base_fx = r.choice(self.pool(PG) or ["sample_payload"])
            fxname = f"{r.choice(NOUNS)}_obj"
            cls_fx[fxname] = Fx(fxname, [base_fx])
            self.imp("import pytest")
            head += [*Fx(fxname, [base_fx]).render("    ", method=True), ""]
        if setup_call:
            self.imp(f"from acme.testutils.helpers import {setup_call}")
            head += ["    def setup_method(self):", f"        {setup_call}()", ""]
            cls_svc.add(SERVICE_CALLS[setup_call])
        self.body += head
        self.functions(
            targets,
            marker_for=marker_for,
            cls=name,
            cls_svc=frozenset(cls_svc),
            cls_fx=cls_fx or None,
            usefix=usefix,
        )

    def module_autouse_svc(self) -> frozenset[str]:
        return self.svc(autouse_names(self.levels)) | self.module_mark_svc()

    def module_mark_svc(self) -> frozenset[str]:
        svc: set[str] = set()
        for m in self.file_marks:
            if m.startswith("usefixtures:"):
                svc |= self.svc([m.split(":", 1)[1]])
            else:
                svc.add(m)
        return frozenset(svc)

    def helpers(self) -> None:
        """Things that are not tests: helper functions and classes, `__test__ = False`."""
        r = self.r
        if r.random() < 0.3:
            self.body += [
                "",
                "",
                f"def make_{r.choice(NOUNS)}(**overrides):",
                f'    data = {{"{r.choice(ATTRS)}": {r.randint(0, 9)}}}',
                "    data.update(overrides)",
                "    return data",
            ]
        if r.random() < 0.08:
            self.body += [
                "",
                "",
                "class TestDataBuilder:",
                "    __test__ = False",
                "",
                "    def test_value(self):",
                "        return 42",
            ]

    def module_fixture(
        self, target: frozenset[str], autouse: bool = False, calls: str | None = None
    ) -> str | None:
        """A fixture defined in the test module itself (possibly autouse)."""
        r = self.r
        pool = self.pool(target) if target else self.pool(NONE)
        if not pool and not calls:
            return None
        name = f"{'_' if autouse else ''}{r.choice(NOUNS)}_{r.choice(('setup', 'fixture', 'env'))}"
        if name in self.module_fx or name in self.names:
            return None
        deps = [r.choice(pool)] if pool else []
        fx = Fx(
            name, deps, autouse=autouse, calls=frozenset({SERVICE_CALLS[calls]}) if calls else NONE
        )
        body = None
        if calls:
            self.imp(f"from acme.testutils.helpers import {calls}")
            body = [
                f'{calls}("{r.choice(NOUNS)}", {{}})'
                if calls != "flush_redis"
                else "flush_redis()",
                "return True",
            ]
        self.imp("import pytest")
        self.body += ["", "", *fx.render(body=body)]
        self.module_fx[name] = fx
        self.pool_cache.clear()
        return name

    # -- kinds ---------------------------------------------------------------------------------

    def build(self) -> None:
        r = self.r
        n = max(2, int(r.lognormvariate(2.37, 0.55)))
        kind = self.kind
        if kind in ("none_func", "none_unittest", "pg_fixtures") and r.random() < 0.12:
            self.module_fixture(NONE, autouse=True)
        if kind == "pg_unittest":
            while n > 0:
                if r.random() < 0.12:
                    self.local_base_with_subclasses("pg")
                    n -= 6
                    continue
                k = min(n, r.randint(3, 12))
                multi_deco = []
                class_svc: frozenset[str] = NONE
                if r.random() < 0.006:
                    multi_deco = ['@pytest.mark.usefixtures("kafka_producer")']
                    class_svc = frozenset({"kafka"})
                self.unittest_class(
                    "pg",
                    k,
                    extra_deco=multi_deco,
                    class_svc=class_svc,
                    snuba_calls=0.004,
                    method_marks=0.003,
                )
                n -= k
            if r.random() < 0.2:
                self.functions([NONE] * r.randint(1, 3))
        elif kind == "pg_fixtures":
            if r.random() < 0.3:
                self.module_fixture(PG)
            targets = [PG if r.random() < 0.7 else NONE for _ in range(n)]
            if r.random() < 0.05:
                targets[0] = frozenset({"postgres", "redis"})
            self.split_functions(targets)
        elif kind == "pg_marked":
            self.imp("import pytest")
            mark = r.choice(("postgres", "usefixtures"))
            if mark == "postgres":
                self.file_marks = ["postgres"]
                extra = r.choice(("", ", pytest.mark.slow"))
                self.body += [
                    "",
                    f"pytestmark = [pytest.mark.postgres{extra}]"
                    if extra
                    else "pytestmark = pytest.mark.postgres",
                ]
            else:
                fx = r.choice(self.pool(PG) or ["default_org"])
                self.file_marks = [f"usefixtures:{fx}"]
                self.body += ["", f'pytestmark = [pytest.mark.usefixtures("{fx}")]']
            self.split_functions([NONE] * n)
        elif kind == "none_func":
            if r.random() < 0.3:
                self.module_fixture(NONE)
            self.split_functions([NONE] * n)
        elif kind == "none_unittest":
            while n > 0:
                k = min(n, r.randint(3, 10))
                if r.random() < 0.05:
                    # A class that injects database fixtures: it needs postgres after all.
                    self.unittest_class("none", k, inject=True)
                else:
                    self.unittest_class("none", k)
                n -= k
        elif kind in ("redis", "kafka", "clickhouse"):
            self.single_service(kind, n)
        elif kind == "snuba":
            snuba = frozenset({"postgres", "snuba"})
            while n > 0:
                k = min(n, r.randint(3, 8))
                choice = r.random()
                if choice < 0.5:
                    self.unittest_class("snuba", k)
                elif choice < 0.75:
                    self.unittest_class("pg", k, snuba_calls=1.0)
                else:
                    self.functions([snuba] * k)
                n -= k
        self.helpers()
        self.emit()

    def single_service(self, service: str, n: int) -> None:
        r = self.r
        target = frozenset({service})
        call = next(c for c, s in SERVICE_CALLS.items() if s == service)
        if service == "clickhouse" and r.random() < 0.4:
            self.imp("import pytest")
            self.file_marks = ["clickhouse"]
            self.body += ["", "pytestmark = [pytest.mark.clickhouse]"]
            self.split_functions([NONE] * n)
            return
        while n > 0:
            k = min(n, r.randint(2, 7))
            choice = r.random()
            if choice < 0.3 and service in ("redis", "kafka"):
                self.unittest_class(service, k)
            elif choice < 0.45:
                self.unittest_class("none", k, setup_call=call)
            elif choice < 0.6:
                self.plain_class([NONE] * k, class_mark=service)
            elif choice < 0.7:
                self.plain_class([NONE] * k, setup_call=call)
            elif choice < 0.8:
                name = self.module_fixture(NONE, calls=call)
                if name:
                    self.functions([NONE] * k)
                    # the fixture is requested through usefixtures by each test of a class
                    self.plain_class([NONE] * 1, class_usefix=target)
                    k += 1
                else:
                    self.functions([target] * k)
            else:
                self.functions(
                    [target if r.random() < 0.8 else NONE for _ in range(k)],
                    marker_for=target if r.random() < 0.5 else NONE,
                )
            n -= k

    def split_functions(self, targets: list[frozenset[str]]) -> None:
        r = self.r
        while targets:
            k = min(len(targets), r.randint(2, 8))
            chunk, targets = targets[:k], targets[k:]
            if r.random() < 0.3:
                mark = None
                if chunk and all(t == PG for t in chunk) and r.random() < 0.3:
                    mark = "postgres"
                self.plain_class(chunk if not mark else [NONE] * len(chunk), class_mark=mark)
            else:
                self.functions(chunk, marker_for=PG if r.random() < 0.1 else NONE)

    def emit(self) -> None:
        r = self.r
        doc = (
            f'"""Tests for acme.{self.d.app}.{self.d.sub}: '
            f'{r.choice(NOUNS)} {r.choice(MODULE_KINDS)}."""'
        )
        imports = sorted(self.imports, key=lambda s: (not s.startswith("import "), s))
        std = [i for i in imports if "acme" not in i]
        own = [i for i in imports if "acme" in i]
        called = set(HELPER_CALL.findall("\n".join(self.body)))
        helpers = sorted(
            c for c in called if c.split("_", 1)[0] in VERBS_SET and c.split("_", 1)[1] in NOUNS_SET
        )
        text = [doc, ""]
        text += std
        if std:
            text.append("")
        text += own
        if own:
            text.append("")
        if helpers:
            text.append("")
            for h in helpers:
                text += [f"def {h}(value):", '    return {"value": value}', "", ""]
        body = "\n".join(text).rstrip() + "\n" + "\n".join(self.body) + "\n"
        self.gen.write(self.rel, body)


def generate(out: Path, seed: int = DEFAULT_SEED, scale: float = 1.0) -> dict:
    """Write the repository under `out` (which must not exist); return the manifest."""
    out.mkdir(parents=True)
    manifest = Generator(out, seed, scale).run()
    manifest["seed"] = seed
    return manifest


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    ap.add_argument("out", type=Path)
    ap.add_argument("--scale", type=float, default=1.0)
    ap.add_argument("--seed", type=int, default=DEFAULT_SEED)
    args = ap.parse_args(argv)
    if args.out.exists():
        print(f"{args.out} exists", file=sys.stderr)
        return 2
    m = generate(args.out, args.seed, args.scale)
    (args.out.parent / (args.out.name + ".manifest.json")).write_text(json.dumps(m, indent=1))
    summary = {k: v for k, v in m.items() if k != "tests"}
    print(json.dumps(summary, indent=1))
    return 0


if __name__ == "__main__":
    os.umask(0o022)
    sys.exit(main())
