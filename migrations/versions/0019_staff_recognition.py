"""Staff recognition: official answers on questions, staff notes on members

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-02 13:14:03.339232

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0019'
down_revision = '0018'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('member_notes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('member_id', sa.Integer(), nullable=False),
    sa.Column('author_id', sa.Integer(), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['author_id'], ['users.id'], name=op.f('fk_member_notes_author_id_users')),
    sa.ForeignKeyConstraint(['member_id'], ['users.id'], name=op.f('fk_member_notes_member_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_member_notes'))
    )
    with op.batch_alter_table('member_notes', schema=None) as batch_op:
        batch_op.create_index('ix_member_notes_member_time', ['member_id', 'created_at'], unique=False)

    # One column, so a question has at most one official answer.
    with op.batch_alter_table('topics', schema=None) as batch_op:
        batch_op.add_column(sa.Column('official_post_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_topics_official_post_id_posts'), 'posts',
                                    ['official_post_id'], ['id'])


def downgrade():
    with op.batch_alter_table('topics', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_topics_official_post_id_posts'), type_='foreignkey')
        batch_op.drop_column('official_post_id')

    with op.batch_alter_table('member_notes', schema=None) as batch_op:
        batch_op.drop_index('ix_member_notes_member_time')

    op.drop_table('member_notes')
