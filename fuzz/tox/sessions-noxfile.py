import nox

nox.options.sessions = ["unit", "integration"]


@nox.session(python=["3.11", "3.12"], reuse_venv=True)
@nox.parametrize("db", [nox.param("pg", id="postgres"), "mysql"])
def integration(session, db):
    session.install("-e", ".[test]", f"driver-{db}")
    session.chdir("tests")
    session.run("pytest", f"integration/{db}", "-k", "not slow", *session.posargs, env={"DB": db})


@nox.session(name="unit")
def unit_tests(s: nox.Session) -> None:
    s.run("python", "-m", "pytest", "unit", f"--basetemp={s.python}")
    s.notify("coverage")


@nox.session(default=False)
def coverage(session):
    session.run("coverage", "combine")
    helper(session)
