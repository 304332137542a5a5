"""The customer reports: six questions staff ask about customers, each answered by one function returning rows.

Every report reads what its page shows in a fixed number of queries however
many rows there are, over the customers the viewer may see
(crm.records.visible_customers). Years and quarters are calendar periods in
UTC, as the rest of the CRM counts months. Each report also gives its rows
as a table for the CSV export (`*_table()`: a header and rows of cells),
written by `csv_lines()` with the customer export's cell quoting.
"""
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import defer, selectinload

from ..auth.models import User
from ..community.models import Post, Topic, TopicKind
from ..errors import Invalid
from ..events import Activity, Channel, Verb
from ..extensions import db
from ..permissions import Permission, ensure
from ..sqltypes import utcnow
from .csvio import csv_text
from .dimensions import future_value_part_text
from .lifecycle import cause_label
from .models import Customer, CustomerComplaint, CustomerProduct, EngagementLevel, LifecycleStage, ValueTier
from .records import CustomerFilters, customer_query, visible_customers
from .rules import crm_rules

FIRST_YEAR = 2000
LOOKUP_MAX = 20
FUTURE_VALUE_DEFAULT, FUTURE_VALUE_MAX = 50, 100_000
TOP_DEFAULT, TOP_MAX = 20, 500
NOT_RECORDED = "-"  # the competitor filter's value for churned customers whose new supplier nobody wrote down
LOW_ENGAGEMENT = (EngagementLevel.CASUAL, EngagementLevel.LURKER, EngagementLevel.DORMANT)

# The parts of a future value score (Customer.future_value_parts, written by crm.dimensions).
FUTURE_VALUE_PARTS = {
    "renewal": _l("Renewal due soon"),
    "replacement": _l("Product due for replacement"),
    "engagement": _l("Community engagement"),
    "referrals": _l("Referrals made"),
}


@dataclass(frozen=True)
class Report:
    endpoint: str
    tab: str        # the short name in the reports' tabs
    title: str      # the question it answers
    summary: str


# The reports in the order the index lists them.
REPORTS = (
    Report("reports.value", _l("Key or valued"), _l("Is this customer key or valued?"),
           _l("Look a customer up: their tier, rank by revenue and share of all revenue, and the key and valued "
              "customers.")),
    Report("reports.support", _l("Support load"), _l("Who raised our support costs this quarter?"),
           _l("Customers by the questions their people asked in the community and the support tickets they "
              "opened.")),
    Report("reports.closer", _l("Closer relationship"), _l("Whom do we want a closer relationship with?"),
           _l("High future value, low engagement: customers worth more than they take part.")),
    Report("reports.complaints", _l("Complaints"), _l("Complaints per key customer"),
           _l("Posts with complaint words by the people of each key customer this year, with the words found.")),
    Report("reports.repeat", _l("Repeat buyers"), _l("Did last year's biggest customers buy this year?"),
           _l("Last year's biggest buyers and whether each has bought again.")),
    Report("reports.competitors", _l("Lost to competitors"), _l("Who left for a competitor?"),
           _l("Churned customers, whom they left for, when and why, counted per competitor.")),
)


# -- periods ------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Quarter:
    year: int
    number: int   # 1 to 4

    @classmethod
    def of(cls, moment):
        return cls(moment.year, (moment.month - 1) // 3 + 1)

    @property
    def start(self):
        return datetime(self.year, 3 * self.number - 2, 1, tzinfo=UTC)

    @property
    def end(self):
        """The first moment after the quarter."""
        following = self.next()
        return datetime(following.year, 3 * following.number - 2, 1, tzinfo=UTC)

    @property
    def key(self):
        return f"{self.year}-Q{self.number}"

    def next(self):
        return Quarter(self.year + 1, 1) if self.number == 4 else Quarter(self.year, self.number + 1)

    def previous(self):
        return Quarter(self.year - 1, 4) if self.number == 1 else Quarter(self.year, self.number - 1)


def year_start(year):
    return datetime(year, 1, 1, tzinfo=UTC)


def recent_quarters(now=None, count=8):
    """The current quarter and the ones before it, newest first (the quarter menu)."""
    quarter, quarters = Quarter.of(now or utcnow()), []
    for _ in range(count):
        quarters.append(quarter)
        quarter = quarter.previous()
    return quarters


def recent_years(now=None, count=5):
    this_year = (now or utcnow()).year
    return list(range(this_year, this_year - count, -1))


def parse_quarter(text, *, now=None):
    """The quarter named like "2026-Q2"; the current one when `text` is empty; Invalid otherwise."""
    now = now or utcnow()
    text = (text or "").strip().upper()
    if not text:
        return Quarter.of(now)
    year, sep, number = text.partition("-Q")
    if sep and year.isdigit() and number in ("1", "2", "3", "4"):
        quarter = Quarter(int(year), int(number))
        if quarter.year >= FIRST_YEAR and quarter.start <= now:
            return quarter
    raise Invalid(fields={"quarter": _l("Choose a quarter like %(example)s, not in the future.",
                                        example=Quarter.of(now).key)})


def parse_year(text, *, now=None):
    """The year named (from 2000 to this one); this year when `text` is empty; Invalid otherwise."""
    this_year = (now or utcnow()).year
    return parse_whole(text, "year", default=this_year, low=FIRST_YEAR, high=this_year)


def parse_whole(text, name, *, default, low, high):
    """A whole number from `low` to `high`; `default` when `text` is empty; Invalid naming `name` otherwise."""
    text = (text or "").strip()
    if not text:
        return default
    if text.isdigit() and low <= int(text) <= high:
        return int(text)
    raise Invalid(fields={name: _l("Give a whole number from %(low)d to %(high)d.", low=low, high=high)})


# -- 1. is this customer key or valued? ---------------------------------------------------------------------

@dataclass
class Standing:
    """Where a customer stands in the ABC analysis: rank by revenue and shares of all revenue (0 to 1)."""
    customer: Customer
    rank: int
    of: int
    share: Decimal | None          # None when nobody has revenue
    cumulative_share: Decimal | None

    @property
    def key_or_valued(self):
        return self.customer.value_tier in (ValueTier.KEY, ValueTier.VALUED)


@dataclass
class Thresholds:
    key_share: int
    valued_share: int


def thresholds():
    """The key and valued lines in force, in percent of all revenue."""
    rules = crm_rules()
    return Thresholds(rules.key_share, rules.valued_share)


def _ranked(user):
    """A subquery of every visible customer's rank by revenue, revenue up to and including theirs, and the total."""
    order = (Customer.revenue.desc(), Customer.id)
    return visible_customers(user).with_only_columns(
        Customer.id.label("customer_id"),
        sa.func.rank().over(order_by=Customer.revenue.desc()).label("rank"),
        sa.func.count().over().label("of"),
        sa.func.sum(Customer.revenue).over(order_by=order).label("running"),
        sa.func.sum(Customer.revenue).over().label("total"),
    ).subquery("ranked")


def _standing(customer, rank, of, running, total):
    if not total:
        return Standing(customer, rank, of, None, None)
    return Standing(customer, rank, of, Decimal(customer.revenue or 0) / Decimal(total),
                    Decimal(running) / Decimal(total))


def _standings(query, ranked):
    rows = db.session.execute(query.join(ranked, ranked.c.customer_id == Customer.id)
                              .add_columns(ranked.c.rank, ranked.c.of, ranked.c.running, ranked.c.total)).all()
    return [_standing(customer, rank, of, running, total) for customer, rank, of, running, total in rows]


def customer_standing(user, q, *, limit=LOOKUP_MAX):
    """The customers the staff search finds for `q` (name, company, external id...), each with its Standing.

    Ranks and shares are over every customer `user` may see, so they are the
    ABC analysis's; the matches come in the customer list's order (by name).
    """
    ensure(user, Permission.MANAGE_SEGMENTS)
    if not (q or "").strip():
        return []
    matches = customer_query(user, CustomerFilters(q=q.strip())).limit(limit)
    return _standings(matches, _ranked(user))


def key_and_valued(user, *, limit=None):
    """The key and valued customers with their Standing, highest revenue first."""
    ensure(user, Permission.MANAGE_SEGMENTS)
    query = (visible_customers(user).options(defer(Customer.search_text))
             .where(Customer.value_tier.in_([ValueTier.KEY, ValueTier.VALUED]))
             .order_by(Customer.revenue.desc(), Customer.id).limit(limit))
    return _standings(query, _ranked(user))


def key_and_valued_table(standings):
    header = [_l("Customer"), _l("External id"), _l("Tier"), _l("Rank"), _l("Revenue"), _l("Revenue share (%)"),
              _l("Cumulative share (%)")]
    rows = [[s.customer.name, s.customer.external_id, s.customer.value_tier.label, s.rank,
             f"{s.customer.revenue or 0:.2f}", _percent(s.share), _percent(s.cumulative_share)] for s in standings]
    return header, rows


def _percent(share):
    return "" if share is None else f"{share * 100:.1f}"


# -- 2. who raised our support costs this quarter? ----------------------------------------------------------

@dataclass
class SupportLoad:
    customer: Customer
    questions: int
    tickets: int

    @property
    def total(self):
        return self.questions + self.tickets


def support_costs(user, quarter, *, limit=None):
    """Customers by questions their members asked plus support tickets, in `quarter`; most first.

    A question is a community topic of kind question, not deleted, started in
    the quarter by a member now linked to the customer; a ticket a touchpoint
    on the ticket channel that happened in the quarter. Customers with
    neither are left out.
    """
    ensure(user, Permission.MANAGE_SEGMENTS)
    start, end = quarter.start, quarter.end
    questions = (sa.select(User.customer_id.label("customer_id"), sa.func.count(Topic.id).label("n"))
                 .join(Topic, Topic.author_id == User.id)
                 .where(User.customer_id.is_not(None), Topic.kind == TopicKind.QUESTION, Topic.deleted_at.is_(None),
                        Topic.created_at >= start, Topic.created_at < end)
                 .group_by(User.customer_id).subquery("questions"))
    tickets = (sa.select(Activity.customer_id.label("customer_id"), sa.func.count(Activity.id).label("n"))
               .where(Activity.verb == str(Verb.TOUCHPOINT_RECORDED), Activity.channel == str(Channel.TICKET),
                      Activity.customer_id.is_not(None), Activity.occurred_at >= start, Activity.occurred_at < end)
               .group_by(Activity.customer_id).subquery("tickets"))
    asked, opened = sa.func.coalesce(questions.c.n, 0), sa.func.coalesce(tickets.c.n, 0)
    query = (visible_customers(user).options(selectinload(Customer.relationship_owner), defer(Customer.search_text))
             .outerjoin(questions, questions.c.customer_id == Customer.id)
             .outerjoin(tickets, tickets.c.customer_id == Customer.id)
             .where(sa.or_(questions.c.n.is_not(None), tickets.c.n.is_not(None)))
             .add_columns(asked, opened)
             .order_by((asked + opened).desc(), Customer.name, Customer.id).limit(limit))
    return [SupportLoad(customer, int(asked_n), int(opened_n))
            for customer, asked_n, opened_n in db.session.execute(query)]


def support_table(loads):
    header = [_l("Customer"), _l("External id"), _l("Tier"), _l("Questions"), _l("Tickets"), _l("Total"),
              _l("Relationship owner")]
    rows = [[load.customer.name, load.customer.external_id, load.customer.value_tier.label, load.questions,
             load.tickets, load.total, _name(load.customer.relationship_owner)] for load in loads]
    return header, rows


def _name(user):
    return user.name if user is not None else ""


# -- 3. whom do we want a closer relationship with? ---------------------------------------------------------

@dataclass
class ValuePart:
    label: str      # which part (FUTURE_VALUE_PARTS)
    points: int
    detail: str     # what shows it, as a sentence


@dataclass
class Prospect:
    """A customer worth a closer relationship: their future value, explained part by part."""
    customer: Customer
    parts: list = field(default_factory=list)


def closer_relationship(user, *, min_future_value=FUTURE_VALUE_DEFAULT, limit=None):
    """Customers with a future value of at least `min_future_value` and casual, lurker or dormant engagement.

    Highest future value first, each with the parts of its score labelled.
    """
    ensure(user, Permission.MANAGE_SEGMENTS)
    query = (visible_customers(user).options(selectinload(Customer.relationship_owner), defer(Customer.search_text))
             .where(Customer.future_value >= min_future_value, Customer.engagement_level.in_(LOW_ENGAGEMENT))
             .order_by(Customer.future_value.desc(), Customer.name, Customer.id).limit(limit))
    return [Prospect(customer, value_parts(customer)) for customer in db.session.scalars(query)]


def value_parts(customer):
    """The parts of the customer's future value score as [ValuePart], biggest first, each with its sentence
    (crm.dimensions.future_value_part_text)."""
    parts = [ValuePart(FUTURE_VALUE_PARTS.get(part["part"], part["part"]), int(part.get("points") or 0),
                       str(future_value_part_text(part))) for part in customer.future_value_parts or []]
    return sorted(parts, key=lambda part: -part.points)


def closer_table(prospects):
    header = [_l("Customer"), _l("External id"), _l("Tier"), _l("Future value"), _l("Engagement"),
              _l("Why"), _l("Relationship owner")]
    rows = [[p.customer.name, p.customer.external_id, p.customer.value_tier.label, p.customer.future_value,
             p.customer.engagement_level.label,
             "; ".join(f"{part.label} +{part.points}" + (f" ({part.detail})" if part.detail else "")
                       for part in p.parts),
             _name(p.customer.relationship_owner)] for p in prospects]
    return header, rows


# -- 4. complaints per key customer this year ---------------------------------------------------------------

@dataclass
class ComplaintPost:
    topic_id: int
    number: int
    title: str
    words: list
    occurred_at: datetime


@dataclass
class Complaints:
    customer: Customer
    count: int
    posts: list = field(default_factory=list)

    @property
    def words(self):
        """The complaint words found, the most used first."""
        counts = Counter(word for post in self.posts for word in post.words)
        return [word for word, _n in sorted(counts.items(), key=lambda item: (-item[1], item[0]))]


def key_customer_complaints(user, year, *, limit=None):
    """Every key customer with the posts of theirs that used complaint words in `year` (crm.complaints).

    Most complaints first; key customers without any come last, with none.
    Each complaint links to its post (topic and post number), newest first.
    """
    ensure(user, Permission.MANAGE_SEGMENTS)
    in_year = (CustomerComplaint.occurred_at >= year_start(year), CustomerComplaint.occurred_at < year_start(year + 1))
    counts = (sa.select(CustomerComplaint.customer_id, sa.func.count(CustomerComplaint.id).label("n"))
              .where(*in_year).group_by(CustomerComplaint.customer_id).subquery("complaints"))
    complained = sa.func.coalesce(counts.c.n, 0)
    query = (visible_customers(user).options(selectinload(Customer.relationship_owner), defer(Customer.search_text))
             .where(Customer.value_tier == ValueTier.KEY)
             .outerjoin(counts, counts.c.customer_id == Customer.id).add_columns(complained)
             .order_by(complained.desc(), Customer.name, Customer.id).limit(limit))
    rows = [Complaints(customer, int(n)) for customer, n in db.session.execute(query)]
    by_customer = {row.customer.id: row for row in rows if row.count}
    if by_customer:
        posts = db.session.execute(
            sa.select(CustomerComplaint.customer_id, CustomerComplaint.words, CustomerComplaint.occurred_at,
                      Post.topic_id, Post.number, Topic.title)
            .join(Post, Post.id == CustomerComplaint.post_id).join(Topic, Topic.id == Post.topic_id)
            .where(CustomerComplaint.customer_id.in_(list(by_customer)), *in_year)
            .order_by(CustomerComplaint.occurred_at.desc(), CustomerComplaint.id.desc()))
        for customer_id, words, occurred_at, topic_id, number, title in posts:
            by_customer[customer_id].posts.append(ComplaintPost(topic_id, number, title, list(words or []),
                                                                occurred_at))
    return rows


def complaints_table(rows, post_url):
    """The CSV table; `post_url(post)` gives the address of a complaint post."""
    header = [_l("Customer"), _l("External id"), _l("Complaints"), _l("Words found"), _l("Posts"),
              _l("Relationship owner")]
    table = [[row.customer.name, row.customer.external_id, row.count, ", ".join(row.words),
              " ".join(post_url(post) for post in row.posts), _name(row.customer.relationship_owner)]
             for row in rows]
    return header, table


# -- 5. did last year's biggest customers buy this year? ----------------------------------------------------

@dataclass
class Repeat:
    customer: Customer
    bought_again: bool
    last_purchase: date | None


@dataclass
class RepeatReport:
    year: int
    rows: list

    @property
    def bought(self):
        return sum(1 for row in self.rows if row.bought_again)


def _purchased_in(year):
    start, end = date(year, 1, 1), date(year + 1, 1, 1)
    product = sa.exists().where(CustomerProduct.customer_id == Customer.id, CustomerProduct.purchased_on >= start,
                                CustomerProduct.purchased_on < end)
    return sa.or_(product, sa.and_(Customer.last_purchase_at >= start, Customer.last_purchase_at < end))


def repeat_buyers(user, year, *, top=TOP_DEFAULT):
    """The `top` customers by revenue among those who bought in the year before `year`, and whether they bought
    in `year`; highest revenue first.

    A purchase is a product bought that year or a last purchase date in it.
    The last purchase shown is the later of the record's last purchase date
    and its newest product.
    """
    ensure(user, Permission.MANAGE_SEGMENTS)
    newest_product = (sa.select(sa.func.max(CustomerProduct.purchased_on))
                      .where(CustomerProduct.customer_id == Customer.id).scalar_subquery())
    bought_again = sa.case((_purchased_in(year), 1), else_=0)
    query = (visible_customers(user).options(selectinload(Customer.relationship_owner), defer(Customer.search_text))
             .where(_purchased_in(year - 1))
             .add_columns(bought_again, newest_product)
             .order_by(Customer.revenue.desc(), Customer.id).limit(top))
    rows = [Repeat(customer, bool(again), max((day for day in (customer.last_purchase_at, newest) if day),
                                              default=None))
            for customer, again, newest in db.session.execute(query)]
    return RepeatReport(year, rows)


def repeat_table(report):
    header = [_l("Customer"), _l("External id"), _l("Tier"), _l("Revenue"),
              _l("Bought in %(year)d", year=report.year), _l("Last purchase"), _l("Relationship owner")]
    rows = [[row.customer.name, row.customer.external_id, row.customer.value_tier.label,
             f"{row.customer.revenue or 0:.2f}", _l("yes") if row.bought_again else _l("no"),
             row.last_purchase.isoformat() if row.last_purchase else "", _name(row.customer.relationship_owner)]
            for row in report.rows]
    return header, rows


# -- 6. who left for a competitor? --------------------------------------------------------------------------

@dataclass
class Departure:
    customer: Customer
    cause: str | None

    @property
    def lost_to(self):
        return self.customer.lost_to

    @property
    def churned_at(self):
        return self.customer.stage_changed_at


@dataclass
class Departures:
    counts: list          # [(competitor or None, customers)], most customers first, not recorded last
    rows: list            # [Departure] under the filter, most recent first
    total: int


def lost_to_competitors(user, *, competitor="", limit=None):
    """Churned customers with whom they left for, when and the cause of the move, and how many per competitor.

    `competitor` narrows the rows to one (NOT_RECORDED: those without one);
    the counts are always over every churned customer. The cause is the
    latest stage change's, as staff read it (crm.lifecycle.cause_label).
    """
    ensure(user, Permission.MANAGE_SEGMENTS)
    churned = visible_customers(user).where(Customer.lifecycle_stage == LifecycleStage.CHURNED_CUSTOMER)
    counted = db.session.execute(churned.with_only_columns(Customer.lost_to, sa.func.count(Customer.id))
                                 .group_by(Customer.lost_to)).all()
    counts = sorted(((name, int(n)) for name, n in counted), key=lambda item: (item[0] is None, -item[1], item[0]))
    if competitor == NOT_RECORDED:
        churned = churned.where(Customer.lost_to.is_(None))
    elif competitor:
        churned = churned.where(Customer.lost_to == competitor)
    customers = db.session.scalars(
        churned.options(selectinload(Customer.relationship_owner), defer(Customer.search_text))
        .order_by(Customer.stage_changed_at.desc().nulls_last(), Customer.name, Customer.id).limit(limit)).all()
    causes = _latest_stage_causes([customer.id for customer in customers])
    return Departures(counts, [Departure(customer, causes.get(customer.id)) for customer in customers],
                      sum(n for _name, n in counts))


def _latest_stage_causes(customer_ids):
    """{customer id: the cause of its latest stage change, as staff read it}, in one query."""
    if not customer_ids:
        return {}
    latest = (sa.select(Activity.customer_id, Activity.payload,
                        sa.func.row_number().over(partition_by=Activity.customer_id,
                                                  order_by=(Activity.occurred_at.desc(), Activity.id.desc()))
                        .label("n"))
              .where(Activity.verb == str(Verb.CUSTOMER_STAGE_CHANGED), Activity.customer_id.in_(customer_ids))
              .subquery("latest"))
    rows = db.session.execute(sa.select(latest.c.customer_id, latest.c.payload).where(latest.c.n == 1))
    return {customer_id: str(cause_label(payload.get("cause"))) if (payload or {}).get("cause") else None
            for customer_id, payload in rows}


def competitors_table(departures):
    header = [_l("Customer"), _l("External id"), _l("Lost to"), _l("Churned on"), _l("Cause"),
              _l("Relationship owner")]
    rows = [[d.customer.name, d.customer.external_id, d.lost_to, d.churned_at.date().isoformat() if d.churned_at
             else "", d.cause, _name(d.customer.relationship_owner)] for d in departures.rows]
    return header, rows


# -- CSV ----------------------------------------------------------------------------------------------------

def csv_lines(header, rows):
    """CSV text of a report table (crm.csvio.csv_text: the BOM and formula-safe cells of every export)."""
    return csv_text(header, rows)
