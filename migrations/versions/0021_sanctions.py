"""Decisions on members: warnings, silences and suspensions, and what is in force kept on the user row

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-02 14:12:56.555839

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0021'
down_revision = '0020'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('member_sanctions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.Enum('warning', 'silence', 'suspension', name='sanctionkind', native_enum=False, create_constraint=True, length=24), nullable=False),
    sa.Column('member_id', sa.Integer(), nullable=False),
    sa.Column('by_id', sa.Integer(), nullable=False),
    sa.Column('reason', sa.String(length=1000), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('ends_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('acknowledged_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('lifted_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('lifted_by_id', sa.Integer(), nullable=True),
    sa.Column('review_item_id', sa.Integer(), nullable=True),
    sa.CheckConstraint("kind != 'silence' OR ends_at IS NOT NULL", name=op.f('ck_member_sanctions_silence_has_an_end')),
    sa.ForeignKeyConstraint(['by_id'], ['users.id'], name=op.f('fk_member_sanctions_by_id_users')),
    sa.ForeignKeyConstraint(['lifted_by_id'], ['users.id'], name=op.f('fk_member_sanctions_lifted_by_id_users')),
    sa.ForeignKeyConstraint(['member_id'], ['users.id'], name=op.f('fk_member_sanctions_member_id_users')),
    sa.ForeignKeyConstraint(['review_item_id'], ['review_items.id'], name=op.f('fk_member_sanctions_review_item_id_review_items')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_member_sanctions'))
    )
    with op.batch_alter_table('member_sanctions', schema=None) as batch_op:
        batch_op.create_index('ix_member_sanctions_member_kind', ['member_id', 'kind', 'acknowledged_at'], unique=False)

    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('suspended_until', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('silenced_until', sa.DateTime(timezone=True), nullable=True))



def downgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('silenced_until')
        batch_op.drop_column('suspended_until')

    with op.batch_alter_table('member_sanctions', schema=None) as batch_op:
        batch_op.drop_index('ix_member_sanctions_member_kind')

    op.drop_table('member_sanctions')
