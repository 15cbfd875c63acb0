"""Alembic environment: runs on the connection `arena.db.migrate` hands over."""

from __future__ import annotations

from alembic import context
from sqlmodel import SQLModel

import arena.store.judge_tables  # registers the judge tables on SQLModel.metadata
import arena.store.tables  # noqa: F401

config = context.config
target_metadata = SQLModel.metadata
connection = config.attributes.get("connection")
if connection is None:
    from sqlalchemy import create_engine

    connection = create_engine(config.get_main_option("sqlalchemy.url") or "").connect()

context.configure(
    connection=connection,
    target_metadata=target_metadata,
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
