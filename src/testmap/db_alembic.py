"""Alembic for --testmap-db: the `build = "alembic"` builder (Alembic's upgrade, in this
process, into the template being built) and the revisions an incremental build compares."""

from __future__ import annotations

import os
from pathlib import Path


class AlembicError(Exception):
    """Alembic could not be loaded, or its upgrade failed; the message says which."""


def _config(root: Path, ini: str, url: str = ""):
    try:
        from alembic.config import Config
    except ImportError:
        raise AlembicError('build = "alembic" needs Alembic installed') from None
    path = root / ini
    if not path.is_file():
        raise AlembicError(f"[tool.testmap.db] alembic-config: {path} does not exist")
    cfg = Config(str(path))
    if url:
        cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))  # configparser's escape
    return cfg


def upgrade(url: str, root: Path, ini: str, head: str, env_name: str) -> None:
    """Alembic's `upgrade <head>` into the database of `url`.

    env.py gets the URL two ways: as `sqlalchemy.url` in its config, and in the URL variable
    (for those that read the environment), set for the length of the upgrade. An env.py that
    takes it from a settings object imported earlier would migrate another database: the
    check after the upgrade says so rather than seal an empty template.
    """
    from alembic import command

    cfg = _config(root, ini, url)
    previous = os.environ.get(env_name)
    os.environ[env_name] = url
    cwd = os.getcwd()
    try:
        os.chdir(root)  # as `alembic upgrade` run from the project: relative paths in env.py
        command.upgrade(cfg, head)
    except Exception as e:
        raise AlembicError(f"Alembic's upgrade to {head} failed: {type(e).__name__}: {e}") from e
    finally:
        os.chdir(cwd)
        if previous is None:
            os.environ.pop(env_name, None)
        else:
            os.environ[env_name] = previous


def scripts(root: Path, ini: str):
    """The project's script directory (every revision file read once)."""
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(_config(root, ini))


def revisions(script) -> dict[str, str]:
    """Every revision of the script directory and its file."""
    return {rev.revision: rev.path for rev in script.walk_revisions()}


def lineage(script, heads: list[str]) -> set[str]:
    """The revisions a database at `heads` holds, which are also those `upgrade <head>`
    leaves applied: each head and its ancestors."""
    held: set[str] = set()
    for head in heads:
        held |= {rev.revision for rev in script.walk_revisions(base="base", head=head)}
    return held
