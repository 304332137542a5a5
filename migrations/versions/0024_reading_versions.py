"""A counter per member that moves with their read marks, for the unread counts cached per page of a list

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-04 20:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0024'
down_revision = '0023'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('reading_versions',
                    sa.Column('user_id', sa.Integer(), nullable=False),
                    sa.Column('version', sa.BigInteger(), nullable=False),
                    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_reading_versions_user_id_users'),
                                            ondelete='CASCADE'),
                    sa.PrimaryKeyConstraint('user_id', name=op.f('pk_reading_versions')))


def downgrade():
    op.drop_table('reading_versions')
