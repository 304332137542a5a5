"""users keep their level beside their points, so a permission check needs no lookup

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01 23:20:00

"""
from alembic import op
import sqlalchemy as sa


revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None

DEFAULT_THRESHOLDS = (0, 50, 200, 1000, 5000)


def upgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('level_number', sa.Integer(), server_default='1', nullable=False))
    connection = op.get_bind()
    settings = sa.table('settings', sa.column('key', sa.String), sa.column('value', sa.JSON))
    stored = connection.execute(sa.select(settings.c.value).where(settings.c.key == 'rewards')).scalar()
    thresholds = (stored or {}).get('thresholds') or DEFAULT_THRESHOLDS
    users = sa.table('users', sa.column('points', sa.Integer), sa.column('level_number', sa.Integer))
    level = sa.case(*[(users.c.points >= t, n) for n, t in reversed(list(enumerate(thresholds, 1))[1:])], else_=1)
    connection.execute(users.update().values(level_number=level))


def downgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('level_number')
