"""insert sentinels on activity and audit_log: many rows in one INSERT on SQLite too

SQLite can't tie the ids an INSERT ... RETURNING of many rows hands back to
the rows sent, so SQLAlchemy falls back to one INSERT per row unless the
table has a sentinel column. A nightly run or an import that records tens of
thousands of activities and audit entries then takes one statement per
thousand rows instead of one per row. The column stays empty.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-02 04:55:00

"""
import sqlalchemy as sa
from alembic import op

revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None


def upgrade():
    for table in ('activity', 'audit_log'):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column('_sentinel', sa.Integer(), nullable=True))


def downgrade():
    for table in ('audit_log', 'activity'):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column('_sentinel')
