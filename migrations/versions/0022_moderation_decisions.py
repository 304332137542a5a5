"""Moderators' decisions that change topics, and flags that count by the flagger's record

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-02 17:53:16.577490

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0022'
down_revision = '0021'
branch_labels = None
depends_on = None


STATUSES = ('open', 'approved', 'hidden', 'post_deleted')
NEW_STATUSES = STATUSES + ('deleted', 'changed')


def _statuses(values):
    return "status IN (%s)" % ", ".join(f"'{value}'" for value in values)


def _allow_statuses(values):
    with op.batch_alter_table('review_items', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_review_items_reviewstatus'), type_='check')
        batch_op.create_check_constraint(op.f('ck_review_items_reviewstatus'), _statuses(values))


def upgrade():
    _allow_statuses(NEW_STATUSES)
    with op.batch_alter_table('flags', schema=None) as batch_op:
        batch_op.add_column(sa.Column('weight', sa.Float(), server_default='1', nullable=False))
        batch_op.add_column(sa.Column('outcome', sa.Enum('agreed', 'disagreed', name='flagoutcome', native_enum=False, create_constraint=True, length=24), nullable=True))
        batch_op.create_index('ix_flags_flagger_outcome', ['flagger_id', 'outcome'], unique=False)

    with op.batch_alter_table('review_items', schema=None) as batch_op:
        batch_op.add_column(sa.Column('decision', sa.String(length=24), nullable=True))

    with op.batch_alter_table('topics', schema=None) as batch_op:
        batch_op.add_column(sa.Column('merged_into_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_topics_merged_into_id_topics'), 'topics', ['merged_into_id'], ['id'])



def downgrade():
    with op.batch_alter_table('topics', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_topics_merged_into_id_topics'), type_='foreignkey')
        batch_op.drop_column('merged_into_id')

    with op.batch_alter_table('review_items', schema=None) as batch_op:
        batch_op.drop_column('decision')
    op.execute("UPDATE review_items SET status = 'hidden' WHERE status IN ('deleted', 'changed')")
    _allow_statuses(STATUSES)

    op.drop_index('ix_flags_flagger_outcome', table_name='flags')  # before the table is rebuilt without it
    with op.batch_alter_table('flags', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_flags_flagoutcome'), type_='check')
        batch_op.drop_column('outcome')
        batch_op.drop_column('weight')

