"""Idempotency by constraint: insert a row unless its unique key is already taken."""
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
