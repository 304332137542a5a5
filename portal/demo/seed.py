"""Seeding the demo: the community of Lumina Cloud, a B2B analytics SaaS vendor.

Lumina Cloud sells to companies in China and abroad; its customers' people
meet in the community, its staff moderate it and its sales reps work the
accounts. Every demo account signs in with DEMO_PASSWORD. Who they are and
what they say to each other is data in content.py; this module plays it
through the community services, each action at its moment of the last four
months (every service takes `now=`).
"""
import random
import zlib
from datetime import date, timedelta
from decimal import Decimal

import sqlalchemy as sa
from flask import current_app
from werkzeug.security import generate_password_hash

from ..auth.models import Team, User
from ..community import answers, follows, ideas, posts, topics, votes
from ..community.flags import flag_post
from ..community.models import Category, Post, Tag, Topic
from ..crm import lifecycle_rules, segments
from ..crm.dimensions import assign_value_tiers, recompute_all
from ..crm.lifecycle import change_lifecycle_stage
from ..crm.models import Customer, CustomerDomain, CustomerProduct, CustomerSource, LifecycleStage
from ..crm.records import save_customer, search_text_of, update_customer
from ..crm.rules import update_crm_rules
from ..crm.touchpoints import add_note, record_touchpoint
from ..events import Verb, record_activity
from ..extensions import db
from ..leads import daily, pipeline
from ..leads.models import OPEN_STATUSES, Lead
from ..levels import level_for
from ..moderation import decisions, sanctions
from ..moderation.models import MemberSanction, ReviewItem, ReviewStatus, SanctionKind
from ..moderation.notes import add_member_note
from ..moderation.rules import update_moderation_rules
from ..notifications.models import Notification
from ..payloads import Visited
from ..permissions import Role
from ..referrals import invites, signups
from ..rewards.models import PointsEntry
from ..sqltypes import utcnow
from . import content
from .content import (
    ADMIN_EMAIL,
    CATEGORIES,
    CUSTOMERS,
    DEMO_CONFLICTING_IMPORT,
    DEMO_EMAIL_DOMAIN,
    DEMO_FIRST_PURCHASE,
    DEMO_LOST_TO,
    DEMO_NOTES,
    DEMO_PASSWORD,
    DEMO_PENDING_INVITES,
    DEMO_PRODUCT_CYCLES,
    DEMO_PRODUCTS,
    DEMO_RECORD_DETAILS,
    DEMO_REFERRALS,
    DEMO_RULE_RUNS,
    DEMO_SEGMENTS,
    DEMO_TOUCHPOINTS,
    DEMO_WAITING_MEMBER,
    DEMO_WIN_BACK,
    LOGINS,
    MEMBER_EMAIL,
    MEMBERS_BY_CUSTOMER_DOMAIN,
    STAFF,
    STAFF_JOINED_DAYS_AGO,
    TEAMS,
)
from .crm_receiver import stand_in_crm


def seed_demo() -> dict:
    """Fill an empty database with Lumina Cloud's demo community, in one transaction.

    Creates the categories, 12 customer accounts across every lifecycle stage
    (value tiers set by ABC analysis), their 30 members, the community and
    sales staff and an admin, then lets them talk: the topics, replies, votes,
    accepted answers, idea updates and follows of `content`, made through
    the community services at their moments of the last four months (so
    activity, points and notifications follow, dated as they happened). Does
    nothing if demo users or the admin exist.

    Returns {"created": False}, or {"created": True, "logins": [(role, email,
    password), ...]} with one sign-in per role.
    """
    if _already_seeded():
        return {"created": False}

    password_hash = generate_password_hash(DEMO_PASSWORD)
    db.session.add_all(_categories())
    staff = _staff(password_hash)
    customers = _customers(staff)
    _members(customers, password_hash)
    assign_value_tiers(cause="tiers.recompute")
    db.session.flush()
    _opening_balances()
    db.session.commit()
    with current_app.test_request_context(), stand_in_crm(staff[ADMIN_EMAIL]):  # @mentions link through url_for
        now = utcnow()
        _community(now)
        _moderation(now)
        _referrals(now)
        _crm_records(now)
        _crm_history(now)
        _leads(now)
        _read_old_notifications(now)

    return {
        "created": True,
        "logins": [(role.value, email, DEMO_PASSWORD) for role, email in LOGINS],
    }


def _already_seeded():
    return db.session.scalar(
        sa.select(User.id)
        .where(sa.or_(User.email.like(f"%@{DEMO_EMAIL_DOMAIN}"), User.email == ADMIN_EMAIL))
        .limit(1)
    ) is not None


def _days_ago(days):
    return utcnow() - timedelta(days=days)


def _date_days_ago(days):
    return date.today() - timedelta(days=days) if days is not None else None


def _categories():
    return [Category(position=position, **fields) for position, fields in enumerate(CATEGORIES)]


def _staff(password_hash):
    """The staff users, by email."""
    teams = {name: Team(name=name, created_at=_days_ago(STAFF_JOINED_DAYS_AGO)) for name in TEAMS}
    db.session.add_all(teams.values())
    staff = {}
    for person in STAFF:
        user = User(
            email=person["email"],
            name=person["name"],
            role=person["role"],
            locale=person["locale"],
            timezone=person["timezone"],
            bio=person["bio"],
            team=teams[person["team"]] if person["team"] else None,
            password_hash=password_hash,
            created_at=_days_ago(STAFF_JOINED_DAYS_AGO),
        )
        db.session.add(user)
        staff[user.email] = user
    return staff


def _customers(staff):
    """The customer accounts, by domain."""
    customers = {}
    for account in CUSTOMERS:
        renewal_in_days = account.get("renewal_in_days")
        verified_days_ago = account["verified_days_ago"]
        customer = Customer(
            external_id=account["external_id"],
            name=account["name"],
            company=account["company"],
            email=account["email"],
            domains=[CustomerDomain(domain=account["domain"])],
            phone=account["phone"],
            region=account["region"],
            industry=account["industry"],
            size=account["size"],
            lifecycle_stage=account["stage"],
            revenue=Decimal(account["revenue"]),
            first_purchase_at=_date_days_ago(account.get("first_purchase_days_ago")),
            last_purchase_at=_date_days_ago(account.get("last_purchase_days_ago")),
            renewal_date=date.today() + timedelta(days=renewal_in_days) if renewal_in_days is not None else None,
            contact_channels=list(account["contact_channels"]),
            opt_outs=list(account["opt_outs"]),
            last_verified_at=_days_ago(verified_days_ago) if verified_days_ago is not None else None,
            created_at=_days_ago(account["created_days_ago"]),
            owner_rep=staff[account["owner_rep"]],
            relationship_owner=staff[account["relationship_owner"]],
        )
        customer.search_text = search_text_of(customer, customer.domain_names)
        db.session.add(customer)
        customers[customer.domain] = customer
    return customers


def _members(customers, password_hash):
    for domain, members in MEMBERS_BY_CUSTOMER_DOMAIN.items():
        for member in members:
            db.session.add(User(
                email=member.email,
                name=member.name,
                role=Role.MEMBER,
                locale=member.locale,
                timezone=member.timezone,
                bio=member.bio,
                points=member.points,
                level_number=level_for(member.points).number,
                customer=customers[domain] if domain else None,
                password_hash=password_hash,
                created_at=_days_ago(member.joined_days_ago),
            ))


def _opening_balances():
    """The points members earned before the demo's four months, as one ledger entry each."""
    members = db.session.scalars(sa.select(User).where(User.points > 0)).all()
    db.session.add_all(PointsEntry(user_id=m.id, delta=m.points, rule="opening_balance", created_at=m.created_at)
                       for m in members)


# -- the community: topics, replies, votes, answers, ideas, follows --------------------------------

COMMUNITY_DAYS = 120
VOTE_DELAY_MEAN_HOURS = 18


def _community(now):
    """Play the demo conversations through the community services, in time order.

    Every action is an event at a moment in the last four months, passed to
    the service as `now`; running the events in that order means
    notifications and activity come out as they would have (a voter hears
    about an idea's status only if they voted first).
    """
    people = {user.email.partition("@")[0]: user for user in db.session.scalars(sa.select(User))}
    categories = {c.slug: c for c in db.session.scalars(sa.select(Category))}
    db.session.add_all(Tag(name=name, created_by_id=people["moderator"].id, created_at=now - timedelta(COMMUNITY_DAYS))
                       for name in sorted({tag for topic in content.TOPICS for tag in topic.tags}))
    db.session.commit()

    community = _DemoCommunity(people, categories, now)
    events = [event for follow in content.FOLLOWS for event in community.follow_events(*follow)]
    events += [event for spec in content.TOPICS for event in community.topic_events(spec)]
    for _when, _seq, action in sorted(events, key=lambda event: event[:2]):
        action()


class _DemoCommunity:
    """Turns `content` into timed events that call the community services."""

    def __init__(self, people, categories, now):
        self.people, self.categories, self.now = people, categories, now
        self.joined = {handle: user.created_at for handle, user in people.items()}
        self.topic_ids = {}       # topic key -> id
        self.post_ids = {}        # (topic key, post key) -> id
        self._seq = 0

    def _event(self, when, action, *args):
        """(when, tie-breaker, what to do): events sort by time, then in the order they were planned.

        The action is called with `args` and now=when.
        """
        if when >= self.now:
            raise ValueError(f"demo content happens in the future: {action.__name__}{args}")
        self._seq += 1
        return when, self._seq, lambda: action(*args, now=when)

    def _when(self, start, hours=None, ago=None):
        return start + timedelta(hours=hours) if hours is not None else self.now - timedelta(days=ago)

    def follow_events(self, handle, target_type, target):
        target_id = self.categories[target].id if target_type == "category" else self.people[target].id
        when = self.now - timedelta(days=COMMUNITY_DAYS - 1)
        return [self._event(when, follows.follow, self.people[handle], target_type, target_id)]

    def topic_events(self, spec):
        """Everything that happens to one topic, each at its moment."""
        start = self.now - timedelta(days=spec.ago)
        replies = self._timed_replies(spec, start)  # [(post key, reply, when)]

        def topic_id():  # known once the topic exists
            return self.topic_ids[spec.key]

        moderator, minute = self.people["moderator"], timedelta(minutes=1)

        events = [self._event(start, self._start_topic, spec)]
        events += [self._event(start + minute, lambda now, h=handle: follows.follow(
            self.people[h], "topic", topic_id(), now=now)) for handle in spec.followers]
        if spec.pinned:
            events.append(self._event(start + 2 * minute, lambda now: topics.set_pinned(
                moderator, topic_id(), True, now=now)))
        events += [self._event(when, self._reply, spec, reply, key) for key, reply, when in replies]
        if spec.edit:
            events.append(self._event(start + timedelta(hours=spec.edit.hours), lambda now: posts.edit_post(
                self.people[spec.author], self.post_ids[spec.key, "op"], spec.edit.body, now=now)))
        events += self._vote_events(spec, "op", start, spec.author, spec.votes, 0, spec.voted_by)
        for key, reply, when in replies:
            events += self._vote_events(spec, key, when, reply.author, reply.votes, reply.down)
        if spec.accepted:
            answered = next(when for key, _, when in replies if key == spec.accepted)
            asker = self.people[spec.accepted_by or spec.author]
            events.append(self._event(answered + timedelta(hours=2), lambda now: answers.accept(
                asker, topic_id(), self.post_ids[spec.key, spec.accepted], now=now)))
        for status in spec.statuses:
            events.append(self._event(self._when(start, status.hours, status.ago), lambda now, s=status: (
                ideas.set_idea_status(self.people[s.actor], topic_id(), s.status, s.reply, now=now))))
        if spec.locked:
            last_post = replies[-1][2] if replies else start
            events.append(self._event(last_post + timedelta(hours=1), lambda now: topics.set_locked(
                moderator, topic_id(), True, now=now)))
        return events

    def _timed_replies(self, spec, start):
        """(post key, reply, when) for each reply; the key names it for quotes, votes and acceptance."""
        replies, previous = [], start
        for number, reply in enumerate(spec.replies, start=2):
            when = self._when(start, reply.hours, reply.ago)
            if when <= previous:
                raise ValueError(f"demo topic {spec.key!r}: replies must come after the topic, in order")
            replies.append((reply.key or f"#{number}", reply, when))
            previous = when
        return replies

    def _start_topic(self, spec, *, now):
        topic = topics.create_topic(self.people[spec.author], category_id=self.categories[spec.category].id,
                                    kind=spec.kind, title=spec.title, body=spec.body, tags=list(spec.tags), now=now)
        self.topic_ids[spec.key] = topic.id
        self.post_ids[spec.key, "op"] = db.session.scalar(
            sa.select(Post.id).where(Post.topic_id == topic.id, Post.number == 1))

    def _reply(self, spec, reply, key, *, now):
        quoted = self.post_ids[spec.key, reply.quote] if reply.quote else None
        post = posts.reply(self.people[reply.author], self.topic_ids[spec.key], reply.body, reply_to_id=quoted,
                           now=now)
        self.post_ids[spec.key, key] = post.id

    def _vote_events(self, spec, post_key, posted_at, author, ups, downs, voted_by=()):
        """`ups` + `downs` votes by other people, each a while after the post (or after they joined)."""
        rng = random.Random(zlib.crc32(f"{spec.key}/{post_key}".encode()))
        voters = self._voters(spec, posted_at, author, voted_by, rng)[:ups + downs]
        if len(voters) < ups + downs:
            raise ValueError(f"demo topic {spec.key!r}: not enough people to cast {ups + downs} votes")
        events = []
        for index, handle in enumerate(voters):
            earliest = max(posted_at, self.joined[handle] + timedelta(days=1))
            delay = timedelta(hours=min(rng.expovariate(1 / VOTE_DELAY_MEAN_HOURS), 24 * 14) + 0.1)
            when = min(earliest + delay, self.now - timedelta(minutes=2))
            events.append(self._event(when, self._vote, handle, (spec.key, post_key), 1 if index < ups else -1))
        return events

    def _vote(self, handle, post_key, value, *, now):
        votes.cast(self.people[handle], self.post_ids[post_key], value, now=now)

    def _voters(self, spec, posted_at, author, voted_by, rng):
        """Who votes, most likely first: the named voters, people who were there, then newcomers."""
        staff_only = spec.category == "staff-room"
        pool = [handle for handle, user in self.people.items()
                if handle != author and handle not in voted_by and handle not in content.DEMO_QUIET_MEMBERS
                and (user.is_staff if staff_only else user.role in (Role.MEMBER, Role.MODERATOR))]
        pool.sort()
        rng.shuffle(pool)
        pool.sort(key=lambda handle: self.joined[handle] > posted_at)  # stable: earlier members first
        return [*voted_by, *pool]


# -- referrals: friends members brought --------------------------------------------------------------



def _referrals(now):
    """Play the demo's referrals through the referral and CRM services in time order."""
    people = {user.email.partition("@")[0]: user for user in db.session.scalars(sa.select(User))}
    domain, bought_days_ago = DEMO_FIRST_PURCHASE
    buyer = db.session.scalar(sa.select(Customer).join(CustomerDomain).where(CustomerDomain.domain == domain))
    events = []
    for referrer, friend, source in DEMO_REFERRALS:
        joined = people[friend].created_at + timedelta(minutes=5)
        events.append((joined, _demo_signup, people[friend], people[referrer], source))
    events += [(now - timedelta(days=days), _demo_invite, people[referrer], email)
               for referrer, email, days in DEMO_PENDING_INVITES]
    buyer.lifecycle_stage = LifecycleStage.PROSPECT
    db.session.commit()
    events.append((now - timedelta(days=bought_days_ago), _demo_first_purchase, buyer))
    for when, action, *args in sorted(events, key=lambda event: event[0]):
        action(when, *args)


def _demo_invite(when, referrer, email):
    invites.invite_friend(referrer, email, now=when)


def _demo_signup(when, friend, referrer, source):
    signups.record_signup(friend, code=referrer.referral_code, source=source, now=when)
    db.session.commit()


def _demo_first_purchase(when, customer):
    change_lifecycle_stage(None, customer.id, LifecycleStage.CUSTOMER, cause="First purchase (CRM sync)", now=when)


READ_AFTER_DAYS = 14  # the demo's members have read what they were told more than two weeks ago


def _moderation(now):
    """The watched words, then the demo's rude, off-topic and advertising replies, their flags and the
    moderator's earlier decision: the review queue has something to show, and one member a history."""
    people = {user.email.partition("@")[0]: user for user in db.session.scalars(sa.select(User))}
    titles = {spec.key: spec.title for spec in content.TOPICS}
    update_moderation_rules(people["admin"], {"watched_words": content.DEMO_WATCHED_WORDS})
    post_ids = {}
    for spec in content.DEMO_MODERATED_REPLIES:
        topic_id = db.session.scalar(sa.select(Topic.id).where(Topic.title == titles[spec.topic]))
        post = posts.reply(people[spec.author], topic_id, spec.body, now=now - timedelta(days=spec.ago))
        post_ids[spec.key] = post.id
    for flag in sorted(content.DEMO_FLAGS, key=lambda flag: -flag.ago):
        flag_post(people[flag.flagger], post_ids[flag.post], flag.reason, flag.text,
                  now=now - timedelta(days=flag.ago))
    for key, moderator, decision, details, ago in content.DEMO_DECISIONS:
        item_id = db.session.scalar(sa.select(ReviewItem.id).where(ReviewItem.post_id == post_ids[key],
                                                                   ReviewItem.status == ReviewStatus.OPEN))
        decisions.decide(people[moderator], item_id, decision, now=now - timedelta(days=ago), **details)
    for warning in db.session.scalars(sa.select(MemberSanction).where(MemberSanction.kind == SanctionKind.WARNING)):
        sanctions.acknowledge(warning.member, warning.id,
                              now=now - timedelta(days=content.DEMO_WARNING_ACKNOWLEDGED_AGO))
    for author, member, body, ago in content.DEMO_MEMBER_NOTES:
        add_member_note(people[author], people[member].id, body, now=now - timedelta(days=ago))


def _read_old_notifications(now):
    cutoff = now - timedelta(days=READ_AFTER_DAYS)
    for notification in db.session.scalars(sa.select(Notification).where(Notification.created_at < cutoff)):
        notification.read_at = notification.created_at + timedelta(hours=3)
    db.session.commit()


# -- the CRM side: full records, contacts outside the community, staff notes, one conflict -------------

def _crm_records(now):
    """Give the accounts their full records, then play the outside touchpoints and notes through the CRM
    services at their moments, and leave one import conflict for staff to decide."""
    people = {user.email: user for user in db.session.scalars(sa.select(User))}
    customers = {c.external_id: c for c in db.session.scalars(sa.select(Customer))}
    for external_id, (source, language, tags) in DEMO_RECORD_DETAILS.items():
        customer = customers[external_id]
        customer.source, customer.preferred_language, customer.tags = source, language, list(tags)
        customer.products = [CustomerProduct(product=product, purchased_on=_date_days_ago(days), quantity=quantity)
                             for product, days, quantity in DEMO_PRODUCTS[external_id]]
    db.session.commit()
    events = [(now - timedelta(days=t.days_ago), _demo_touchpoint, t) for t in DEMO_TOUCHPOINTS]
    events += [(now - timedelta(days=n.days_ago), _demo_note, n) for n in DEMO_NOTES]
    for when, action, item in sorted(events, key=lambda event: event[0]):
        action(when, item, people, customers)
    save_customer(None, None, DEMO_CONFLICTING_IMPORT, source=CustomerSource.IMPORT, cause="Import",
                  now=now - timedelta(days=3))
    db.session.commit()
    email, name, joined_days_ago = DEMO_WAITING_MEMBER
    waiting = User(email=email, name=name, role=Role.MEMBER, locale="zh", timezone="Asia/Shanghai",
                   password_hash=people[MEMBER_EMAIL].password_hash, created_at=now - timedelta(days=joined_days_ago))
    db.session.add(waiting)
    db.session.commit()


def _demo_touchpoint(when, touchpoint, people, customers):
    follow_up = (when + timedelta(days=touchpoint.follow_up_in_days)).date() if touchpoint.follow_up_in_days else None
    record_touchpoint(people[touchpoint.staff], customers[touchpoint.external_id].id, channel=touchpoint.channel,
                      summary=touchpoint.summary, contact=touchpoint.contact, occurred_at=when,
                      follow_up_on=follow_up, now=when)


def _demo_note(when, note, people, customers):
    add_note(people[note.author], customers[note.external_id].id, note.body, now=when)


# -- the CRM's rules over the demo's history: stages moved, a win-back, segments, every dimension --------

def _crm_history(now):
    """Play the lifecycle rules' nightly runs that moved the demo accounts, a churned customer buying again
    and staff noting who another left for, at their moments; save the segments; then work every
    dimension out as the nightly run would tonight."""
    update_crm_rules(None, {"product_cycles": DEMO_PRODUCT_CYCLES})
    customers = {c.external_id: c for c in db.session.scalars(sa.select(Customer))}
    people = {user.email: user for user in db.session.scalars(sa.select(User))}
    events = [(now - timedelta(days=days), _demo_rule_run, customers[external_id])
              for days, external_id in DEMO_RULE_RUNS]
    external_id, days, changes = DEMO_WIN_BACK
    events.append((now - timedelta(days=days), _demo_win_back, customers[external_id], changes))
    external_id, days, staff, competitor = DEMO_LOST_TO
    events.append((now - timedelta(days=days), _demo_lost_to, customers[external_id], people[staff], competitor))
    for when, action, *args in sorted(events, key=lambda event: event[0]):
        action(when, *args)
    moderator = people[content.MODERATOR_EMAIL]
    for spec in DEMO_SEGMENTS:
        segments.create_segment(moderator, spec["name"], spec["description"], spec["match"], spec["rules"])
    recompute_all(cause="tiers.nightly", now=now)


def _demo_rule_run(when, customer):
    lifecycle_rules.apply_time_rules(now=when, only=[customer.id])
    db.session.commit()


def _demo_win_back(when, customer, changes):
    product, quantity = changes["product"]
    bought = [f"{p.product} ({p.purchased_on.isoformat()}) x{p.quantity}" for p in customer.products]
    update_customer(None, customer.id, {
        "revenue": changes["revenue"], "last_purchase_at": when.date().isoformat(),
        "renewal_date": (when.date() + timedelta(days=changes["renewal_in_days"])).isoformat(),
        "products": "; ".join([*bought, f"{product} ({when.date().isoformat()}) x{quantity}"]),
    }, cause="CRM sync", now=when)


def _demo_lost_to(when, customer, staff, competitor):
    update_customer(staff, customer.id, {"lost_to": competitor}, now=when)


# -- leads: how sales worked what the community's posts and referrals surfaced ------------------------------

def _leads(now):
    """Play the reps' work on the demo's leads at its moments (content.DEMO_LEAD_WORK), then the leads' daily
    run as it would go tonight."""
    people = {user.email: user for user in db.session.scalars(sa.select(User))}
    customers = {c.external_id: c for c in db.session.scalars(sa.select(Customer))}
    work = sorted(enumerate(content.DEMO_LEAD_WORK), key=lambda item: (-item[1][0], item[0]))
    for index, (days, external_id, email, action, details) in work:
        when = now - timedelta(days=days, hours=2) + timedelta(minutes=index)
        customer = customers.get(external_id)
        _demo_lead_step(when, customer, people.get(email), action, details, people)
    daily.run_daily(now=now)


def _open_lead_of(customer):
    return db.session.scalar(sa.select(Lead.id).where(Lead.customer_id == customer.id,
                                                      Lead.status.in_(OPEN_STATUSES)))


def _demo_lead_step(when, customer, actor, action, details, people):
    if action == "visit":
        record_activity(Verb.VISITED, actor=actor, obj=actor, payload=Visited(streak=1, day=when.date()),
                        occurred_at=when)
        db.session.commit()
    elif action == "sweep":
        pipeline.sweep(now=when)
    elif action == "claim":
        pipeline.claim(actor, _open_lead_of(customer), now=when)
    elif action == "note":
        pipeline.add_note(actor, _open_lead_of(customer), details["note"], now=when)
    elif action == "assign":
        pipeline.assign(actor, _open_lead_of(customer), people[details["to"]].id, now=when)
    else:
        pipeline.change_status(actor, _open_lead_of(customer), action, now=when, **details)
