"""The customer 360 timeline: every touchpoint of a customer, newest first, from the activity table.

Two index-ordered reads make it: what the customer's people did and what
was recorded about the customer (`customer_id`), and what their people
received (`subject_customer_id`: votes on their posts, answers of theirs
accepted, friends they referred signing up). They are merged by time, and
paged backwards with a cursor (occurred_at, id), never an offset, so a
timeline of years pages as fast as one of days.
"""
import base64
import binascii
import heapq
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from ..auth.models import User
from ..community.models import Topic
from ..errors import Invalid
from ..events import OUTSIDE_CHANNELS, Activity, Verb
from ..extensions import db
from ..permissions import Permission, can
from ..sqltypes import utcnow
from .models import CustomerNote
from .records import get_customer


@dataclass(frozen=True)
class Kind:
    label: object
    done: tuple = ()       # verbs the customer's people did (customer_id)
    received: tuple = ()   # verbs done to the customer's people (subject_customer_id)
    recorded: tuple = ()   # verbs about the customer itself (customer_id; no member did them)
    needs: object = None   # a Permission the viewer must hold to see these entries at all

    def shown_to(self, viewer):
        return self.needs is None or can(viewer, self.needs)


KINDS = {
    "posts": Kind(_l("Topics and replies"), done=(Verb.TOPIC_CREATED, Verb.POST_CREATED)),
    "accepted": Kind(_l("Accepted answers"), received=(Verb.ANSWER_ACCEPTED,)),
    "votes": Kind(_l("Votes received"), received=(Verb.VOTED,)),
    "flags": Kind(_l("Flags"), done=(Verb.POST_FLAGGED,), received=(Verb.POST_FLAGGED, Verb.POST_HIDDEN)),
    "referrals": Kind(_l("Referrals"), done=(Verb.REFERRAL_INVITED,),
                      received=(Verb.REFERRAL_SIGNED_UP, Verb.REFERRAL_CONVERTED)),
    "badges": Kind(_l("Badges and levels"), done=(Verb.BADGE_AWARDED, Verb.LEVEL_REACHED)),
    "visits": Kind(_l("Visits"), done=(Verb.VISITED,)),
    "touchpoints": Kind(_l("Calls, emails, meetings…"), recorded=(Verb.TOUCHPOINT_RECORDED,)),
    "notes": Kind(_l("Staff notes"), recorded=(Verb.CUSTOMER_NOTE_ADDED,)),
    "retention": Kind(_l("Retention"), recorded=(Verb.RETENTION_CASE_OPENED, Verb.RETENTION_CASE_CLOSED)),
    "announcements": Kind(_l("Announcements"), recorded=(Verb.ANNOUNCEMENT_SENT,)),
    # Sales work on the customer's leads: only for those who may see leads (moderators read the 360 too).
    "leads": Kind(_l("Leads"), recorded=(Verb.LEAD_CREATED, Verb.LEAD_CLAIMED, Verb.LEAD_ASSIGNED,
                                         Verb.LEAD_STATUS_CHANGED, Verb.LEAD_RETURNED, Verb.LEAD_NOTE_ADDED),
                  needs=Permission.WORK_LEADS),
    "changes": Kind(_l("Record changes"), done=(Verb.REGISTERED,), recorded=(
        Verb.CUSTOMER_CREATED, Verb.CUSTOMER_UPDATED, Verb.CUSTOMER_STAGE_CHANGED, Verb.CUSTOMER_TIER_CHANGED,
        Verb.CUSTOMER_VERIFIED, Verb.CUSTOMER_MEMBER_LINKED, Verb.CUSTOMER_MEMBER_UNLINKED)),
}
KIND_OF_VERB = {(side, str(verb)): name for name, kind in KINDS.items()
                for side, verbs in (("done", kind.done + kind.recorded), ("received", kind.received))
                for verb in verbs}
PAGE_MAX = 100


@dataclass
class Entry:
    """One line of the timeline; visits of one day are one entry with every member who came."""
    activity: Activity
    kind: str
    received: bool
    actor: User | None = None
    subject: User | None = None
    topic: Topic | None = None
    note: CustomerNote | None = None
    staff: User | None = None
    owner: User | None = None  # a lead's rep (lead events)
    member: User | None = None
    visitors: list = field(default_factory=list)
    count: int = 1         # votes received on one topic in one day are one entry

    @property
    def verb(self):
        return Verb(self.activity.verb)

    @property
    def data(self):
        return self.activity.data


@dataclass
class TimelinePage:
    entries: list
    next_cursor: str | None


def customer_timeline(viewer, customer_id, *, kinds=None, member_id=None, before=None, limit=50):
    """One page of a customer's timeline, newest first; `before` is the previous page's next_cursor.

    `kinds` (names of KINDS) and `member_id` (one of the customer's people)
    narrow it. Reads a fixed number of statements whatever the page holds.
    """
    customer = get_customer(viewer, customer_id)
    kinds = _checked_kinds(kinds, viewer)
    limit = max(1, min(int(limit or 50), PAGE_MAX))
    cursor = decode_cursor(before)
    rows = _merged(_side_queries(customer.id, kinds, member_id, cursor), limit + 1)
    more = len(rows) > limit
    rows = rows[:limit]
    entries = _collapse_votes(_collapse_visits(_entries(rows, customer.id)))
    next_cursor = encode_cursor(rows[-1]) if more and rows else None
    return customer, TimelinePage(entries, next_cursor)


def _checked_kinds(kinds, viewer=None):
    allowed = [name for name, kind in KINDS.items() if viewer is None or kind.shown_to(viewer)]
    if not kinds:
        return allowed
    unknown = [kind for kind in kinds if kind not in allowed]
    if unknown:
        raise Invalid(fields={"kind": _l("Choose from: %(kinds)s.", kinds=", ".join(allowed))})
    return list(dict.fromkeys(kinds))


def _side_queries(customer_id, kinds, member_id, cursor):
    done = [str(v) for name in kinds for v in KINDS[name].done]
    recorded = [] if member_id else [str(v) for name in kinds for v in KINDS[name].recorded]
    received = [str(v) for name in kinds for v in KINDS[name].received]
    queries = []
    if done or recorded:
        query = sa.select(Activity).where(Activity.customer_id == customer_id)
        if member_id:
            query = query.where(Activity.actor_id == member_id, Activity.verb.in_(done))
        else:
            query = query.where(sa.or_(
                sa.and_(Activity.verb.in_(done), Activity.actor_id.is_not(None)), Activity.verb.in_(recorded)))
        queries.append(("done", query))
    if received:
        query = sa.select(Activity).where(Activity.subject_customer_id == customer_id, Activity.verb.in_(received))
        if member_id:
            query = query.where(Activity.subject_user_id == member_id)
        queries.append(("received", query))
    return [(side, _before(query, cursor)) for side, query in queries]


def _before(query, cursor):
    if cursor is not None:
        at, activity_id = cursor
        query = query.where(sa.or_(Activity.occurred_at < at,
                                   sa.and_(Activity.occurred_at == at, Activity.id < activity_id)))
    return query.order_by(Activity.occurred_at.desc(), Activity.id.desc())


def _merged(side_queries, limit):
    """[(side, activity)] newest first from both reads, each activity once (a vote within one customer is both)."""
    streams = [[(side, row) for row in db.session.scalars(query.limit(limit))] for side, query in side_queries]
    merged, seen = [], set()
    for side, row in heapq.merge(*streams, key=lambda pair: (pair[1].occurred_at, pair[1].id), reverse=True):
        if row.id not in seen:
            seen.add(row.id)
            merged.append((side, row))
        if len(merged) == limit:
            break
    return merged


def _entries(rows, customer_id):
    """Entries with their people, topics and notes: three lookups for the whole page."""
    user_ids, topic_ids, note_ids = set(), set(), set()
    for _side, row in rows:
        payload = row.payload or {}
        user_ids.update(i for i in (row.actor_id, row.subject_user_id, payload.get("staff_id"),
                                    payload.get("member_id"), payload.get("owner_id")) if i)
        if (row.payload or {}).get("topic_id"):
            topic_ids.add(row.payload["topic_id"])
        if row.verb == Verb.CUSTOMER_NOTE_ADDED:
            note_ids.add(row.payload["note_id"])
    users = _by_id(User, user_ids)
    topics = _by_id(Topic, topic_ids)
    notes = _by_id(CustomerNote, note_ids)
    entries = []
    for side, row in rows:
        payload = row.payload or {}
        entries.append(Entry(
            activity=row, kind=KIND_OF_VERB[side, row.verb], received=side == "received",
            actor=users.get(row.actor_id), subject=users.get(row.subject_user_id),
            topic=topics.get(payload.get("topic_id")), note=notes.get(payload.get("note_id")),
            staff=users.get(payload.get("staff_id")), member=users.get(payload.get("member_id")),
            owner=users.get(payload.get("owner_id"))))
    return entries


def _by_id(model, ids):
    if not ids:
        return {}
    return {obj.id: obj for obj in db.session.scalars(sa.select(model).where(model.id.in_(ids)))}


def _collapse_visits(entries):
    collapsed = []
    for entry in entries:
        previous = collapsed[-1] if collapsed else None
        if (entry.verb == Verb.VISITED and previous is not None and previous.verb == Verb.VISITED
                and previous.activity.occurred_at.date() == entry.activity.occurred_at.date()):
            if entry.actor and entry.actor.id not in {user.id for user in previous.visitors}:
                previous.visitors.append(entry.actor)
            continue
        if entry.verb == Verb.VISITED and entry.actor:
            entry.visitors.append(entry.actor)
        collapsed.append(entry)
    return collapsed


def _collapse_votes(entries):
    """Upvotes one member received in one topic on one day: one entry that counts them."""
    collapsed = []
    for entry in entries:
        previous = collapsed[-1] if collapsed else None
        if (entry.verb == Verb.VOTED and previous is not None and previous.verb == Verb.VOTED
                and previous.activity.subject_user_id == entry.activity.subject_user_id
                and (previous.activity.payload or {}).get("topic_id") == (entry.activity.payload or {}).get("topic_id")
                and (previous.activity.payload or {}).get("value") == (entry.activity.payload or {}).get("value")
                and previous.activity.occurred_at.date() == entry.activity.occurred_at.date()):
            previous.count += 1
            continue
        collapsed.append(entry)
    return collapsed


def encode_cursor(pair):
    _side, row = pair
    raw = f"{row.occurred_at.astimezone(UTC).isoformat()}|{row.id}"
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(cursor):
    if not cursor:
        return None
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        at, activity_id = raw.split("|")
        moment = datetime.fromisoformat(at)
        if moment.tzinfo is None:
            raise ValueError
        return moment, int(activity_id)
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise Invalid(fields={"before": _l("That is not a cursor this timeline gave out.")}) from None


# -- the 12-month chart -----------------------------------------------------------------------------

@dataclass
class Month:
    label: str             # YYYY-MM
    start: datetime
    community: int
    outside: int

    @property
    def total(self):
        return self.community + self.outside


def monthly_activity(customer, *, now=None, months=12):
    """[Month] for the last `months` months, oldest first: the customer's people's community actions
    (visits and badges aside) and the touchpoints outside the community, counted in one query."""
    now = now or utcnow()
    first = _month_start(now, months - 1)
    month = _month_key(Activity.occurred_at)
    outside = Activity.channel.in_([str(c) for c in OUTSIDE_CHANNELS])
    community_verbs = [str(v) for v in (Verb.TOPIC_CREATED, Verb.POST_CREATED, Verb.POST_FLAGGED,
                                        Verb.REFERRAL_INVITED, Verb.VOTED, Verb.ANSWER_ACCEPTED)]
    rows = db.session.execute(
        sa.select(month, sa.func.count().filter(outside), sa.func.count().filter(~outside))
        .where(Activity.customer_id == customer.id, Activity.occurred_at >= first,
               sa.or_(sa.and_(Activity.verb == str(Verb.TOUCHPOINT_RECORDED), outside),
                      sa.and_(Activity.verb.in_(community_verbs), Activity.actor_id.is_not(None))))
        .group_by(month)).all()
    counts = {key: (int(outside_count), int(community_count)) for key, outside_count, community_count in rows}
    result = []
    for back in range(months - 1, -1, -1):
        start = _month_start(now, back)
        key = start.strftime("%Y-%m")
        outside_count, community_count = counts.get(key, (0, 0))
        result.append(Month(key, start, community_count, outside_count))
    return result


def _month_start(now, back):
    year, month = now.year, now.month - back
    while month <= 0:
        year, month = year - 1, month + 12
    return datetime(year, month, 1, tzinfo=UTC)


def _month_key(column):
    if db.engine.dialect.name == "postgresql":
        return sa.func.to_char(sa.func.timezone("UTC", column), "YYYY-MM")
    return sa.func.strftime("%Y-%m", column)


def last_touch_days(customer, *, now=None):
    """Whole days since the customer's last touch, or None if never touched."""
    if customer.last_touch_at is None:
        return None
    return max(((now or utcnow()) - customer.last_touch_at) // timedelta(days=1), 0)
