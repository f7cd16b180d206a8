"""Alembic per service, run at start-up or by ``python -m services.<name> migrate``.

Each service keeps its own ``migrations/`` folder whose env.py calls :func:`run_env`."""

from __future__ import annotations

from pathlib import Path

from alembic import command, context
from alembic.config import Config
from sqlalchemy import Engine, MetaData


def alembic_config(script_location: Path, engine: Engine) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(script_location))
    cfg.set_main_option("sqlalchemy.url", engine.url.render_as_string(hide_password=False))
    cfg.attributes["engine"] = engine
    return cfg


def upgrade(script_location: Path, engine: Engine, revision: str = "head") -> None:
    command.upgrade(alembic_config(script_location, engine), revision)


def run_env(target_metadata: MetaData) -> None:
    """Body of every service's env.py (online mode only: we always have an engine)."""
    engine: Engine = context.config.attributes["engine"]
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=connection.dialect.name == "sqlite",  # SQLite cannot ALTER much
        )
        with context.begin_transaction():
            context.run_migrations()
        connection.commit()
