"""records are named by their model: "categorie" in audit and activity rows becomes "category"

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-01 23:10:00

"""
from alembic import op
import sqlalchemy as sa


revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def _rename(old, new):
    audit = sa.table('audit_log', sa.column('target_type', sa.String))
    activity = sa.table('activity', sa.column('object_type', sa.String))
    op.execute(audit.update().where(audit.c.target_type == old).values(target_type=new))
    op.execute(activity.update().where(activity.c.object_type == old).values(object_type=new))


def upgrade():
    _rename('categorie', 'category')


def downgrade():
    _rename('category', 'categorie')
