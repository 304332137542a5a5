"""customer records: domains, products, notes, touch and freshness fields; activity subjects

A customer's domain becomes rows of customer_domains (a company can have
several); activity rows learn the member on the receiving end of a vote, an
accepted answer or a referral, so the 360 shows what a customer's people
received as well as what they did.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-02 00:16:04.090765

"""
from alembic import op
import sqlalchemy as sa


revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('customer_domains',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('customer_id', sa.Integer(), nullable=False),
    sa.Column('domain', sa.String(length=120), nullable=False),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], name=op.f('fk_customer_domains_customer_id_customers'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_customer_domains')),
    sa.UniqueConstraint('customer_id', 'domain', name=op.f('uq_customer_domains_customer_id'))
    )
    with op.batch_alter_table('customer_domains', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_customer_domains_domain'), ['domain'], unique=False)

    op.create_table('customer_notes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('customer_id', sa.Integer(), nullable=False),
    sa.Column('author_id', sa.Integer(), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['author_id'], ['users.id'], name=op.f('fk_customer_notes_author_id_users')),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], name=op.f('fk_customer_notes_customer_id_customers'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_customer_notes'))
    )
    with op.batch_alter_table('customer_notes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_customer_notes_customer_id'), ['customer_id'], unique=False)

    op.create_table('customer_products',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('customer_id', sa.Integer(), nullable=False),
    sa.Column('product', sa.String(length=120), nullable=False),
    sa.Column('purchased_on', sa.Date(), nullable=False),
    sa.Column('quantity', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], name=op.f('fk_customer_products_customer_id_customers'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_customer_products'))
    )
    with op.batch_alter_table('customer_products', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_customer_products_customer_id'), ['customer_id'], unique=False)

    with op.batch_alter_table('activity', schema=None) as batch_op:
        batch_op.add_column(sa.Column('subject_user_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('subject_customer_id', sa.Integer(), nullable=True))
        batch_op.create_index('ix_activity_subject_customer_timeline', ['subject_customer_id', 'occurred_at', 'id'], unique=False)
        batch_op.create_index(batch_op.f('ix_activity_subject_user_id'), ['subject_user_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_activity_subject_user_id_users'), 'users', ['subject_user_id'], ['id'])
        batch_op.create_foreign_key(batch_op.f('fk_activity_subject_customer_id_customers'), 'customers', ['subject_customer_id'], ['id'])

    with op.batch_alter_table('customers', schema=None) as batch_op:
        batch_op.add_column(sa.Column('source', sa.Enum('community', 'referral', 'import', 'api', 'staff', 'event', 'website', 'partner', name='customersource', native_enum=False, create_constraint=True, length=24), nullable=False, server_default='staff'))
        batch_op.add_column(sa.Column('preferred_language', sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column('tags', sa.JSON(), nullable=False, server_default='[]'))
        batch_op.add_column(sa.Column('email_bounced_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('last_touch_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('search_text', sa.Text(), nullable=False, server_default=''))
        batch_op.create_index(batch_op.f('ix_customers_industry'), ['industry'], unique=False)
        batch_op.create_index(batch_op.f('ix_customers_last_touch_at'), ['last_touch_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_customers_region'), ['region'], unique=False)
        batch_op.create_index(batch_op.f('ix_customers_relationship_owner_id'), ['relationship_owner_id'], unique=False)

    _move_domains_to_their_table()
    _backfill_search_text()
    _backfill_subjects()
    with op.batch_alter_table('customers', schema=None) as batch_op:
        batch_op.alter_column('source', server_default=None)
        batch_op.alter_column('tags', server_default=None)
        batch_op.alter_column('search_text', server_default=None)
        batch_op.drop_index(batch_op.f('ix_customers_domain'))
        batch_op.drop_column('domain')


customers = sa.table('customers', sa.column('id', sa.Integer), sa.column('domain', sa.String),
                     sa.column('name', sa.String), sa.column('company', sa.String), sa.column('email', sa.String),
                     sa.column('external_id', sa.String), sa.column('phone', sa.String),
                     sa.column('search_text', sa.Text))
customer_domains = sa.table('customer_domains', sa.column('customer_id', sa.Integer), sa.column('domain', sa.String))
activity = sa.table('activity', sa.column('id', sa.Integer), sa.column('verb', sa.String),
                    sa.column('payload', sa.JSON), sa.column('subject_user_id', sa.Integer),
                    sa.column('subject_customer_id', sa.Integer))
users = sa.table('users', sa.column('id', sa.Integer), sa.column('customer_id', sa.Integer))

# The verbs whose payload names the member on the receiving end (payloads.py: subject_field).
SUBJECT_FIELDS = {
    'post.deleted': 'author_id', 'post.hidden': 'author_id', 'post.flagged': 'author_id',
    'post.voted': 'author_id', 'post.vote_retracted': 'author_id', 'post.vote_reversed': 'author_id',
    'answer.accepted': 'answerer_id', 'answer.unaccepted': 'answerer_id',
    'referral.signed_up': 'referrer_id', 'referral.converted': 'referrer_id',
}


def _move_domains_to_their_table():
    bind = op.get_bind()
    rows = bind.execute(sa.select(customers.c.id, customers.c.domain).where(customers.c.domain.is_not(None))).all()
    if rows:
        op.bulk_insert(customer_domains, [{'customer_id': id_, 'domain': domain.lower()} for id_, domain in rows])


def _backfill_search_text():
    bind = op.get_bind()
    rows = bind.execute(sa.select(customers.c.id, customers.c.name, customers.c.company, customers.c.email,
                                  customers.c.domain, customers.c.external_id, customers.c.phone)).all()
    for id_, *values in rows:
        text = ' '.join(value for value in values if value).casefold()
        bind.execute(customers.update().where(customers.c.id == id_).values(search_text=text))


def _backfill_subjects():
    bind = op.get_bind()
    customer_of = dict(bind.execute(sa.select(users.c.id, users.c.customer_id)).all())
    rows = bind.execute(sa.select(activity.c.id, activity.c.verb, activity.c.payload)
                        .where(activity.c.verb.in_(list(SUBJECT_FIELDS)))).all()
    for id_, verb, payload in rows:
        subject = (payload or {}).get(SUBJECT_FIELDS[verb])
        if subject in customer_of:
            bind.execute(activity.update().where(activity.c.id == id_)
                         .values(subject_user_id=subject, subject_customer_id=customer_of[subject]))



def downgrade():
    with op.batch_alter_table('customers', schema=None) as batch_op:
        batch_op.add_column(sa.Column('domain', sa.VARCHAR(length=120), nullable=True))
    bind = op.get_bind()
    first_domains = bind.execute(sa.select(customer_domains.c.customer_id, sa.func.min(customer_domains.c.domain))
                                 .group_by(customer_domains.c.customer_id)).all()
    for customer_id, domain in first_domains:
        bind.execute(customers.update().where(customers.c.id == customer_id).values(domain=domain))
    with op.batch_alter_table('customers', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_customers_relationship_owner_id'))
        batch_op.drop_index(batch_op.f('ix_customers_region'))
        batch_op.drop_index(batch_op.f('ix_customers_last_touch_at'))
        batch_op.drop_index(batch_op.f('ix_customers_industry'))
        batch_op.create_index(batch_op.f('ix_customers_domain'), ['domain'], unique=False)
        batch_op.drop_column('search_text')
        batch_op.drop_column('last_touch_at')
        batch_op.drop_column('email_bounced_at')
        batch_op.drop_column('tags')
        batch_op.drop_column('preferred_language')
        batch_op.drop_constraint('customersource', type_='check')
        batch_op.drop_column('source')

    with op.batch_alter_table('activity', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_activity_subject_customer_id_customers'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('fk_activity_subject_user_id_users'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_activity_subject_user_id'))
        batch_op.drop_index('ix_activity_subject_customer_timeline')
        batch_op.drop_column('subject_customer_id')
        batch_op.drop_column('subject_user_id')

    with op.batch_alter_table('customer_products', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_customer_products_customer_id'))

    op.drop_table('customer_products')
    with op.batch_alter_table('customer_notes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_customer_notes_customer_id'))

    op.drop_table('customer_notes')
    with op.batch_alter_table('customer_domains', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_customer_domains_domain'))

    op.drop_table('customer_domains')
