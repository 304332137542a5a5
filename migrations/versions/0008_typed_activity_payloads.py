"""activity payloads follow their typed models: topic events carry topic_id, from/to get names

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01 23:00:00

"""
from alembic import op
import sqlalchemy as sa


revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None

_activity = sa.table('activity', sa.column('id', sa.Integer), sa.column('verb', sa.String),
                     sa.column('object_id', sa.Integer), sa.column('payload', sa.JSON))
# Verbs whose object is the topic itself: their payloads now name it, as every topic event's does.
_TOPIC_OBJECT_VERBS = ('topic.created', 'topic.edited', 'topic.moved', 'topic.pinned', 'topic.locked',
                       'topic.closed_as_duplicate', 'idea.status_changed')
_RENAMED = {'topic.moved': {'from': 'from_category_id', 'to': 'to_category_id'},
            'customer.stage_changed': {'from': 'from_stage', 'to': 'to_stage'}}


def _rewrite(change):
    connection = op.get_bind()
    verbs = set(_TOPIC_OBJECT_VERBS) | set(_RENAMED)
    rows = connection.execute(sa.select(_activity.c.id, _activity.c.verb, _activity.c.object_id, _activity.c.payload)
                              .where(_activity.c.verb.in_(verbs))).all()
    for row in rows:
        payload = change(row, dict(row.payload or {}))
        connection.execute(_activity.update().where(_activity.c.id == row.id).values(payload=payload))


def upgrade():
    def change(row, payload):
        for old, new in _RENAMED.get(row.verb, {}).items():
            if old in payload:
                payload[new] = payload.pop(old)
        if row.verb in _TOPIC_OBJECT_VERBS:
            payload.setdefault('topic_id', row.object_id)
        return payload
    _rewrite(change)


def downgrade():
    def change(row, payload):
        for old, new in _RENAMED.get(row.verb, {}).items():
            if new in payload:
                payload[old] = payload.pop(new)
        if row.verb in _TOPIC_OBJECT_VERBS:
            payload.pop('topic_id', None)
        return payload
    _rewrite(change)
