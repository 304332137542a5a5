"""Small test helpers shared by several modules."""
from contextlib import contextmanager

import sqlalchemy as sa

from portal.extensions import db


@contextmanager
def count_queries():
    """Collect the SQL statements run inside the block."""
    statements = []

    def before_cursor_execute(conn, cursor, statement, *args):
        statements.append(statement)

    sa.event.listen(db.engine, "before_cursor_execute", before_cursor_execute)
    try:
        yield statements
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", before_cursor_execute)
