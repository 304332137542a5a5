"""activity indexes for the customer 360 timeline (customer, time, id) and analytics (verb, time)

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-01 23:05:00

"""
from alembic import op


revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('activity', schema=None) as batch_op:
        batch_op.drop_index('ix_activity_customer_time')
        batch_op.create_index('ix_activity_customer_timeline', ['customer_id', 'occurred_at', 'id'], unique=False)
        batch_op.create_index('ix_activity_verb_time', ['verb', 'occurred_at'], unique=False)


def downgrade():
    with op.batch_alter_table('activity', schema=None) as batch_op:
        batch_op.drop_index('ix_activity_verb_time')
        batch_op.drop_index('ix_activity_customer_timeline')
        batch_op.create_index('ix_activity_customer_time', ['customer_id', 'occurred_at'], unique=False)
