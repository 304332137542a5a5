"""notifications point at their topic, so a topic out of the reader's reach stops showing

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01 22:40:00

"""
from alembic import op
import sqlalchemy as sa


revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None

_notifications = sa.table('notifications', sa.column('id', sa.Integer), sa.column('topic_id', sa.Integer),
                          sa.column('data', sa.JSON), sa.column('url', sa.String))


def upgrade():
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.add_column(sa.Column('topic_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_notifications_topic_id'), ['topic_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_notifications_topic_id_topics'), 'topics', ['topic_id'], ['id'])
    # The title and category were copied in when written; from now on they are read from the topic.
    connection = op.get_bind()
    for row in connection.execute(sa.select(_notifications.c.id, _notifications.c.data)).all():
        data = dict(row.data or {})
        if 'topic_id' in data:
            topic_id = data.pop('topic_id')
            data.pop('title', None)
            data.pop('category', None)
            connection.execute(_notifications.update().where(_notifications.c.id == row.id)
                               .values(topic_id=topic_id, data=data))
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.drop_column('url')


def downgrade():
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.add_column(sa.Column('url', sa.String(length=300), nullable=False, server_default=''))
    connection = op.get_bind()
    rows = connection.execute(sa.select(_notifications.c.id, _notifications.c.data, _notifications.c.topic_id)
                              .where(_notifications.c.topic_id.is_not(None))).all()
    for row in rows:
        connection.execute(_notifications.update().where(_notifications.c.id == row.id)
                           .values(data={**(row.data or {}), 'topic_id': row.topic_id}))
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_notifications_topic_id_topics'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_notifications_topic_id'))
        batch_op.drop_column('topic_id')
