"""outbox lanes and dedup keys: mail, search, live and webhook messages never wait on each other

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-01 23:40:00

"""
from alembic import op
import sqlalchemy as sa


revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.add_column(sa.Column('lane', sa.String(length=16), server_default='mail', nullable=False))
        batch_op.add_column(sa.Column('dedup_key', sa.String(length=200), nullable=True))
        batch_op.create_index('ix_outbox_lane_pending', ['lane', 'processed_at', 'available_at'], unique=False)
        batch_op.create_index('ix_outbox_dedup', ['topic', 'dedup_key'], unique=False)


def downgrade():
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.drop_index('ix_outbox_dedup')
        batch_op.drop_index('ix_outbox_lane_pending')
        batch_op.drop_column('dedup_key')
        batch_op.drop_column('lane')
