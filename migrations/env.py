"""Alembic environment.  The app and manage.py call `services.core.db.upgrade_to_head`,
which passes its own connection; `alembic upgrade head` from a shell uses the
configured database URL."""

from alembic import context
from sqlmodel import SQLModel

import models  # noqa: F401 - registers the tables on SQLModel.metadata

target_metadata = SQLModel.metadata


def run_with(connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


connection = context.config.attributes.get("connection")
if connection is not None:
    run_with(connection)
else:
    from services.core.db import get_engine

    with get_engine().begin() as conn:
        run_with(conn)
