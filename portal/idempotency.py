"""Idempotency by constraint (insert a row unless its unique key is taken), and by lock where no constraint can."""
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from .extensions import db

_INSERTS = {"postgresql": postgresql.insert, "sqlite": sqlite.insert}


def insert_unless_exists(model, values, *, key, where=None):
    """INSERT ... ON CONFLICT (key) DO NOTHING in the current transaction; True if this call inserted the row.

    `where` names the predicate of a partial unique index on `key`.
    """
    insert = _INSERTS[db.session.get_bind().dialect.name]
    table = model.__table__
    statement = (insert(table).values(**values).on_conflict_do_nothing(index_elements=list(key), index_where=where)
                 .returning(*table.primary_key.columns))
    # RETURNING, not rowcount: through the ORM session PostgreSQL reports rowcount -1 here.
    return db.session.execute(statement).first() is not None


def bump_counter(session, model, key, *, column="version"):
    """Add one to `model`'s counter row named by `key` ({column: value} of its primary key), creating it at 1:
    one INSERT ... ON CONFLICT DO UPDATE in `session`'s transaction, which locks the row until it ends."""
    insert = _INSERTS[session.get_bind().dialect.name]
    table = model.__table__
    counter = table.c[column]
    session.execute(insert(table).values(**key, **{column: 1}).on_conflict_do_update(
        index_elements=[table.c[name] for name in key], set_={column: counter + 1}))


def one_at_a_time(key, *, session=None):
    """Make transactions that touch `key` wait for each other, until this one commits or rolls back.

    For a check-then-write that no unique constraint covers by itself (an
    upsert by external id or email, a touchpoint sent twice under one
    external ref): the second caller waits here, then sees what the first
    committed. A PostgreSQL transaction-level advisory lock; SQLite lets one
    writer in at a time already.
    """
    session = session or db.session
    if session.get_bind().dialect.name == "postgresql":
        session.execute(sa.text("SELECT pg_advisory_xact_lock(hashtextextended(:key, 0))"), {"key": key})
