"""The matrix of tox.ini as nox sessions: five Pythons, each integration's versions as a
parameter of its session. `testmap ci github --envs nox` gives each session a job with only
the services its tests need: Redis's, Redis; SQLAlchemy's, Postgres; the others, none."""

import nox

nox.options.sessions = ["core", "redis", "sqlalchemy", "attrs", "click", "jinja2", "lint"]

PYTHONS = ["3.9", "3.10", "3.11", "3.12", "3.13"]


@nox.session(python=PYTHONS)
def core(session: nox.Session) -> None:
    session.install("pytest", ".")
    session.run("pytest", "tests/core", *session.posargs)


@nox.session(python=PYTHONS)
@nox.parametrize("version", ["4", "5"])
def redis(session: nox.Session, version: str) -> None:
    session.install("pytest", f"redis=={version}.*", ".")
    session.run("pytest", "tests/integrations/redis", *session.posargs)


@nox.session(python=PYTHONS)
@nox.parametrize("version", ["1.4", "2.0"])
def sqlalchemy(session: nox.Session, version: str) -> None:
    session.install("pytest", f"SQLAlchemy=={version}.*", "psycopg2-binary", ".")
    session.run("pytest", "tests/integrations/sqlalchemy", *session.posargs)


@nox.session(python=PYTHONS)
@nox.parametrize("version", ["22", "23", "24"])
def attrs(session: nox.Session, version: str) -> None:
    session.install("pytest", f"attrs=={version}.*", ".")
    session.run("pytest", "tests/integrations/attrs", *session.posargs)


@nox.session(python=PYTHONS)
@nox.parametrize("version", ["7", "8"])
def click(session: nox.Session, version: str) -> None:
    session.install("pytest", f"click=={version}.*", ".")
    session.run("pytest", "tests/integrations/click", *session.posargs)


@nox.session(python=PYTHONS[1:])
@nox.parametrize("version", ["2", "3"])
def jinja2(session: nox.Session, version: str) -> None:
    session.install("pytest", f"Jinja2=={version}.*", ".")
    if version == "2":
        session.install("MarkupSafe<2.1")
    session.run("pytest", "tests/integrations/jinja2", *session.posargs)


@nox.session(python="3.12")
def lint(session: nox.Session) -> None:
    session.install("ruff")
    session.run("ruff", "check", "src", "tests")


@nox.session(python="3.12", default=False)
def mypy(session: nox.Session) -> None:
    session.install("mypy", ".")
    session.run("mypy", "src")
