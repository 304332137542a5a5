"""Topic lists read off an index per order, and the counters their caches and members' page notices hang on

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-03 14:30:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0023'
down_revision = '0022'
branch_labels = None
depends_on = None

OLD = {'ix_topics_category_last': ['category_id', 'last_posted_at'],
       'ix_topics_last_posted': ['last_posted_at'],
       'ix_topics_score': ['score']}
NEW = {'ix_topics_category_last': ['category_id', 'pinned', 'last_posted_at', 'id'],
       'ix_topics_last_posted': ['last_posted_at', 'id'],
       'ix_topics_score': ['score', 'last_posted_at', 'id']}


def _indexes(drop, create):
    with op.batch_alter_table('topics', schema=None) as batch_op:
        for name in drop:
            batch_op.drop_index(name)
        for name, columns in create.items():
            batch_op.create_index(name, columns, unique=False)


def upgrade():
    op.create_table('cache_versions',
                    sa.Column('name', sa.String(length=64), nullable=False),
                    sa.Column('version', sa.BigInteger(), nullable=False),
                    sa.PrimaryKeyConstraint('name', name=op.f('pk_cache_versions')))
    op.create_table('notice_versions',
                    sa.Column('user_id', sa.Integer(), nullable=False),
                    sa.Column('version', sa.BigInteger(), nullable=False),
                    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_notice_versions_user_id_users'),
                                            ondelete='CASCADE'),
                    sa.PrimaryKeyConstraint('user_id', name=op.f('pk_notice_versions')))
    _indexes(OLD, NEW)


def downgrade():
    _indexes(NEW, OLD)
    op.drop_table('notice_versions')
    op.drop_table('cache_versions')
