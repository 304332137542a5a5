"""Where each customer stands, worked out from the record and their people's activity.

Four dimensions, each kept on the customer with its parts or reasons:
- value tier, by ABC analysis of revenue over all customers (`assign_value_tiers`);
- engagement level, from the recency, frequency and contribution of the linked
  members' activity (`engagement_of`);
- future value, a score whose parts say why: renewal due, a product near the end
  of its replacement cycle, engagement, referrals (`future_value_of`);
- churn risk, with its reasons (`churn_of`, reasons as crm.churn describes).

They are kept in step three ways: a member's activity refreshes their customer's
engagement (`member_active`), a record change refreshes what the record alone decides
(`record_changed`: purchase rules, future value, and the tiers after a revenue
change), and `recompute_all` (`flask crm recompute`, and nightly) does everyone
in a few set-based queries.
"""
import logging
from collections import defaultdict
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from itertools import groupby

import sqlalchemy as sa
from flask_babel import format_date, ngettext
from flask_babel import gettext as _

from .. import outbox
from ..auth.models import User
from ..community.models import Topic, TopicKind
from ..events import Activity, Verb, listens_to, record_activities
from ..extensions import db
from ..idempotency import one_at_a_time
from ..payloads import CustomerTierChanged
from ..referrals.models import Referral, ReferralStatus
from ..sqltypes import utcnow
from . import lifecycle_rules
from .models import ChurnRisk, Customer, CustomerComplaint, CustomerProduct, EngagementLevel, LifecycleStage, ValueTier
from .rules import crm_rules

log = logging.getLogger(__name__)

# What counts as taking part: reading (a day's visit), voting, following and inviting count toward
# frequency; writing (topics and replies) is contribution as well.
ENGAGEMENT_VERBS = (Verb.VISITED, Verb.TOPIC_CREATED, Verb.POST_CREATED, Verb.VOTED, Verb.FOLLOWED,
                    Verb.POST_FLAGGED, Verb.REFERRAL_INVITED, Verb.REGISTERED)
CONTRIBUTION_VERBS = (Verb.TOPIC_CREATED, Verb.POST_CREATED)
ENGAGEMENT_DAYS = 90
RECENT_DAYS, BASELINE_DAYS = 30, 150
PAYING = (LifecycleStage.CUSTOMER, LifecycleStage.REPEAT_CUSTOMER)
CHUNK = 5000


# -- activity, counted per customer -------------------------------------------------------------------

@dataclass(frozen=True)
class Stats:
    last_at: object = None
    actions: int = 0          # in the last ENGAGEMENT_DAYS
    contributions: int = 0    # topics and replies in the last ENGAGEMENT_DAYS
    recent: int = 0           # actions in the last RECENT_DAYS
    earlier: int = 0          # actions in the BASELINE_DAYS before those


def activity_stats(customer_ids, now):
    """{customer id: Stats} of the members' activity in the last 180 days; `customer_ids` None for all."""
    since = now - timedelta(days=RECENT_DAYS + BASELINE_DAYS)
    in_window = Activity.occurred_at >= now - timedelta(days=ENGAGEMENT_DAYS)
    recent = Activity.occurred_at >= now - timedelta(days=RECENT_DAYS)
    contributing = Activity.verb.in_([str(v) for v in CONTRIBUTION_VERBS])
    query = (sa.select(Activity.customer_id, sa.func.max(Activity.occurred_at),
                       sa.func.sum(sa.case((in_window, 1), else_=0)),
                       sa.func.sum(sa.case((sa.and_(in_window, contributing), 1), else_=0)),
                       sa.func.sum(sa.case((recent, 1), else_=0)),
                       sa.func.sum(sa.case((recent, 0), else_=1)))
             .where(Activity.occurred_at >= since, Activity.occurred_at <= now,
                    Activity.verb.in_([str(v) for v in ENGAGEMENT_VERBS]))
             .group_by(Activity.customer_id))
    query = query.where(Activity.customer_id.in_(customer_ids)) if customer_ids is not None \
        else query.where(Activity.customer_id.is_not(None))
    return {row[0]: Stats(*row[1:]) for row in db.session.execute(query)}


# -- the dimensions, from what was loaded (no queries) ------------------------------------------------

def engagement_of(stats, now):
    """(level, score 0-100): recency up to 30, frequency up to 30 (an action in 90 days is half a point),
    contribution up to 40 (two points a topic or reply).

    No activity in 90 days is dormant whatever came before; activity without
    a topic or reply is lurking; then the score decides: champion from 75,
    engaged from 45.
    """
    if stats is None or stats.actions == 0:
        return EngagementLevel.DORMANT, 0
    days = (now - stats.last_at).days
    recency = 30 if days <= 7 else 20 if days <= 30 else 10
    score = recency + min(30, stats.actions // 2) + min(40, stats.contributions * 2)
    if stats.contributions == 0:
        return EngagementLevel.LURKER, score
    if score >= 75:
        return EngagementLevel.CHAMPION, score
    if score >= 45:
        return EngagementLevel.ENGAGED, score
    return EngagementLevel.CASUAL, score


ENGAGEMENT_POINTS = {EngagementLevel.CHAMPION: 25, EngagementLevel.ENGAGED: 15, EngagementLevel.CASUAL: 5}


def future_value_of(customer, *, products, level, referrals, rules, today):
    """(score 0-100, parts): what the customer may still bring, each part with its points and evidence.

    Parts: "renewal" (due within the window, 30), "replacement" (the product
    furthest into its replacement cycle, once past the admin's share, 30),
    "engagement" (up to 25), "referrals" (friends who joined, 5 each, up to 15).
    """
    parts = []
    renewal = customer["renewal_date"]
    if renewal is not None and today <= renewal <= today + timedelta(days=rules.renewal_window_days):
        parts.append({"part": "renewal", "points": 30, "detail": {"date": renewal.isoformat()}})
    due = _replacement_due(products, rules, today)
    if due is not None:
        parts.append({"part": "replacement", "points": 30, "detail": due})
    if level in ENGAGEMENT_POINTS:
        parts.append({"part": "engagement", "points": ENGAGEMENT_POINTS[level], "detail": {"level": str(level)}})
    if referrals:
        parts.append({"part": "referrals", "points": min(15, 5 * referrals), "detail": {"count": referrals}})
    return min(100, sum(part["points"] for part in parts)), parts


def _replacement_due(products, rules, today):
    cycles = {name.casefold(): years for name, years in rules.product_cycles.items()}
    best = None
    for product, purchased_on in products:
        years = cycles.get(product.casefold())
        if not years:
            continue
        age = (today - purchased_on).days / 365.25
        share = age / years
        if share * 100 >= rules.cycle_share_due and (best is None or share > best[0]):
            best = (share, {"product": product, "age_years": round(age, 1), "cycle_years": years})
    return best[1] if best else None


LOW_ENGAGEMENT = (EngagementLevel.CASUAL, EngagementLevel.LURKER, EngagementLevel.DORMANT)
CHURN_POINTS = {"activity_falling": 30, "complaints": 30, "unanswered": 20, "renewal_low_engagement": 40}


def churn_of(customer, *, stats, level, complaints, unanswered, rules, today):
    """(risk, reasons) for a paying customer; anyone else has none.

    High from 60 points, medium from 30, low below (CHURN_POINTS per reason;
    three or more complaints add 10).
    """
    if customer["lifecycle_stage"] not in PAYING:
        return ChurnRisk.NONE, []
    reasons = []
    if stats is not None:
        baseline = stats.earlier * RECENT_DAYS // BASELINE_DAYS
        if baseline >= 3 and stats.recent * 2 < baseline:
            reasons.append({"code": "activity_falling", "recent": stats.recent, "baseline": baseline})
    if complaints:
        count, words = complaints
        reasons.append({"code": "complaints", "count": count, "words": words[:6]})
    if unanswered:
        reasons.append({"code": "unanswered", "count": len(unanswered), "topic_ids": unanswered[:10]})
    renewal = customer["renewal_date"]
    if renewal is not None and today <= renewal <= today + timedelta(days=rules.renewal_window_days) \
            and level in LOW_ENGAGEMENT:
        reasons.append({"code": "renewal_low_engagement", "renewal_date": renewal.isoformat(), "level": str(level)})
    points = sum(CHURN_POINTS[r["code"]] for r in reasons)
    if complaints and complaints[0] >= 3:
        points += 10
    risk = ChurnRisk.HIGH if points >= 60 else ChurnRisk.MEDIUM if points >= 30 else \
        ChurnRisk.LOW if points else ChurnRisk.NONE
    return risk, reasons


# -- loading what the dimensions need, for many customers at once --------------------------------------

_COLUMNS = (Customer.id, Customer.lifecycle_stage, Customer.renewal_date, Customer.engagement_level,
            Customer.engagement_score, Customer.future_value, Customer.future_value_parts, Customer.churn_risk,
            Customer.churn_reasons)


def _by_customer(query):
    grouped = defaultdict(list)
    for customer_id, *rest in db.session.execute(query):
        grouped[customer_id].append(rest[0] if len(rest) == 1 else tuple(rest))
    return grouped


def _inputs(ids, now, rules):
    """Everything the dimensions of `ids` (None: everyone) need, in five queries."""
    def narrowed(query, column):
        return query.where(column.in_(ids)) if ids is not None else query

    products = _by_customer(narrowed(sa.select(CustomerProduct.customer_id, CustomerProduct.product,
                                               CustomerProduct.purchased_on), CustomerProduct.customer_id))
    referrals = dict(db.session.execute(narrowed(
        sa.select(User.customer_id, sa.func.count()).join(Referral, Referral.referrer_id == User.id)
        .where(Referral.status.in_([ReferralStatus.SIGNED_UP, ReferralStatus.CONVERTED]),
               User.customer_id.is_not(None))
        .group_by(User.customer_id), User.customer_id)).all())
    complaint_rows = _by_customer(narrowed(
        sa.select(CustomerComplaint.customer_id, CustomerComplaint.words)
        .where(CustomerComplaint.occurred_at >= now - timedelta(days=rules.complaint_window_days),
               CustomerComplaint.occurred_at <= now), CustomerComplaint.customer_id))
    complaints = {cid: (len(rows), list(dict.fromkeys(word for words in rows for word in words)))
                  for cid, rows in complaint_rows.items()}
    unanswered = _by_customer(narrowed(
        sa.select(User.customer_id, Topic.id).join(User, User.id == Topic.author_id)
        .where(Topic.kind == TopicKind.QUESTION, Topic.deleted_at.is_(None), Topic.reply_count == 0,
               Topic.solved_post_id.is_(None), User.customer_id.is_not(None),
               Topic.created_at < now - timedelta(days=rules.unanswered_days),
               Topic.created_at >= now - timedelta(days=ENGAGEMENT_DAYS))
        .order_by(Topic.id), User.customer_id))
    return products, referrals, complaints, unanswered, activity_stats(ids, now)


def _dimensions(customer, inputs, now, rules):
    products, referrals, complaints, unanswered, stats = inputs
    cid, today = customer["id"], now.date()
    level, score = engagement_of(stats.get(cid), now)
    future, parts = future_value_of(customer, products=products.get(cid, ()), level=level,
                                    referrals=referrals.get(cid, 0), rules=rules, today=today)
    risk, reasons = churn_of(customer, stats=stats.get(cid), level=level, complaints=complaints.get(cid),
                             unanswered=unanswered.get(cid), rules=rules, today=today)
    return {"engagement_level": level, "engagement_score": score, "future_value": future,
            "future_value_parts": parts, "churn_risk": risk, "churn_reasons": reasons}


def refresh_dimensions(ids=None, *, now=None):
    """Work engagement, future value and churn risk out again for `ids` (None: every customer).

    Inside the caller's transaction; only rows whose values changed are
    written. Returns how many changed.
    """
    now, rules, changed = now or utcnow(), crm_rules(), 0
    if ids is not None:
        return _refresh_chunk(list(ids), now, rules)
    last_id = 0
    while True:
        chunk = db.session.scalars(sa.select(Customer.id).where(Customer.id > last_id)
                                   .order_by(Customer.id).limit(CHUNK)).all()
        if not chunk:
            return changed
        changed += _refresh_chunk(chunk, now, rules)
        last_id = chunk[-1]


def _refresh_chunk(ids, now, rules):
    customers = [row._asdict() for row in db.session.execute(sa.select(*_COLUMNS).where(Customer.id.in_(ids)))]
    inputs = _inputs(ids, now, rules)
    updates = []
    for customer in customers:
        new = _dimensions(customer, inputs, now, rules)
        if any(customer[name] != value for name, value in new.items()):
            updates.append({"id": customer["id"], **new})
    if updates:
        db.session.execute(sa.update(Customer), updates)
    return len(updates)


# -- value tiers ---------------------------------------------------------------------------------------

def assign_value_tiers(*, cause, now=None):
    """ABC analysis over every customer; each change recorded (CUSTOMER_TIER_CHANGED) with `cause`.

    Sorted by revenue, a customer is placed by the share of revenue of the
    customers before it, so the one that crosses the key line is still key;
    customers with the same revenue share one tier (the first of them decides);
    no revenue is standard. Inside the caller's transaction; returns how many
    customers changed tier.
    """
    one_at_a_time("crm.tiers")  # a nightly run and a revenue change's run at once would both record each change
    rules, now = crm_rules(), now or utcnow()
    key_share, valued_share = Decimal(rules.key_share) / 100, Decimal(rules.valued_share) / 100
    rows = db.session.execute(sa.select(Customer.id, Customer.revenue, Customer.value_tier)
                              .order_by(Customer.revenue.desc(), Customer.id)).all()
    total = sum((row.revenue or Decimal(0) for row in rows), Decimal(0))
    running, changes = Decimal(0), []
    for revenue, group in groupby(rows, key=lambda row: row.revenue or Decimal(0)):
        group = list(group)
        share_before = running / total if total else Decimal(1)
        tier = ValueTier.STANDARD if revenue <= 0 else ValueTier.KEY if share_before < key_share else \
            ValueTier.VALUED if share_before < valued_share else ValueTier.STANDARD
        changes += [(row, tier) for row in group if row.value_tier != tier]
        running += revenue * len(group)
    for start in range(0, len(changes), 1000):
        _record_tier_changes(changes[start:start + 1000], cause, now)
    return len(changes)


def _record_tier_changes(changes, cause, now):
    # Written without loading the records: a first run over an imported book may change most of them.
    db.session.execute(sa.update(Customer), [{"id": row.id, "value_tier": tier} for row, tier in changes])
    record_activities([dict(verb=Verb.CUSTOMER_TIER_CHANGED, customer_id=row.id, occurred_at=now,
                            payload=CustomerTierChanged(from_tier=str(row.value_tier), to_tier=str(tier), cause=cause))
                       for row, tier in changes])


def schedule_tier_recompute(*, cause):
    """Run the ABC analysis after the caller's transaction commits (one run however many records changed).

    Inside an import (`tiers_after_import`) it waits for the import's end.
    """
    if db.session.info.get("crm_tiers_deferred"):
        db.session.info["crm_tiers_wanted"] = True
        return
    outbox.enqueue("crm.tiers", {"cause": cause}, dedup_key="all")


@contextmanager
def tiers_after_import(dry_run):
    """Hold the tier runs a batch import's records ask for, and ask for one run at the end."""
    info = db.session.info
    info["crm_tiers_deferred"], info["crm_tiers_wanted"] = True, False
    try:
        yield
    finally:
        wanted = info.pop("crm_tiers_wanted", False)
        info.pop("crm_tiers_deferred", None)
    if wanted and not dry_run:
        schedule_tier_recompute(cause="tiers.import")
        db.session.commit()


def run_tiers(message):
    assign_value_tiers(cause=message.payload.get("cause", "tiers.revenue"))
    db.session.commit()


# -- everyone, nightly and on demand ------------------------------------------------------------------

@dataclass
class Recomputed:
    tiers: int = 0
    stages: int = 0
    dimensions: int = 0
    retention_cases: int = 0


def recompute_all(*, cause="tiers.recompute", now=None):
    """Every customer's tier, lifecycle stage (the time rules), dimensions and retention cases; committed.

    Each part commits on its own, so a long run holds no lock for long.
    """
    from .retention import open_retention_cases

    now, done = now or utcnow(), Recomputed()
    done.tiers = assign_value_tiers(cause=cause, now=now)
    db.session.commit()
    done.stages = lifecycle_rules.apply_time_rules(now=now)
    db.session.commit()
    done.dimensions = refresh_dimensions(now=now)
    db.session.commit()
    done.retention_cases = open_retention_cases(now=now)
    db.session.commit()
    log.info("crm recompute: %s", done)
    return done


def run_nightly(message):
    recompute_all(cause="tiers.nightly")


# -- on the spine --------------------------------------------------------------------------------------

@listens_to(*ENGAGEMENT_VERBS)
def member_active(verb, activity, **extra):
    if activity.customer_id is not None and activity.actor_id is not None:
        refresh_engagement(activity.customer_id, now=max(activity.occurred_at, utcnow()))


def refresh_engagement(customer_id, *, now):
    """The customer's engagement level and score again, from their people's activity; two statements, in
    the caller's transaction.

    What a member does moves this at once; future value and churn risk,
    which read much more, follow in the nightly run.
    """
    level, score = engagement_of(activity_stats([customer_id], now).get(customer_id), now)
    db.session.execute(sa.update(Customer).where(
        Customer.id == customer_id,
        sa.or_(Customer.engagement_level != level, Customer.engagement_score != score))
        .values(engagement_level=level, engagement_score=score))


# The record fields future value reads.
FUTURE_VALUE_FIELDS = lifecycle_rules.PURCHASE_FIELDS | {"renewal_date"}


@listens_to(Verb.CUSTOMER_CREATED, Verb.CUSTOMER_UPDATED)
def record_changed(verb, activity, **extra):
    customer = db.session.get(Customer, activity.customer_id)
    changed = set(activity.payload.get("changes", {})) if verb == Verb.CUSTOMER_UPDATED else None
    if changed is None or FUTURE_VALUE_FIELDS & changed:
        _refresh_future_value(customer, now=activity.occurred_at)
    if (changed is None and customer.revenue) or (changed and "revenue" in changed):
        schedule_tier_recompute(cause="tiers.revenue")


def _refresh_future_value(customer, *, now):
    # From the record alone (an import's rows cost no query): the referral part is kept from the last full run.
    rules = crm_rules()
    referrals = next((p["detail"]["count"] for p in customer.future_value_parts or () if p["part"] == "referrals"), 0)
    values = {"id": customer.id, "renewal_date": customer.renewal_date, "lifecycle_stage": customer.lifecycle_stage}
    customer.future_value, customer.future_value_parts = future_value_of(
        values, products=[(p.product, p.purchased_on) for p in customer.products],
        level=customer.engagement_level, referrals=referrals, rules=rules, today=now.date())


def init_app(app):
    outbox.register_handler("crm.tiers", run_tiers, lane=outbox.Lane.CRM)
    outbox.register_daily("crm.nightly", run_nightly, lane=outbox.Lane.CRM, hour=app.config["CRM_NIGHTLY_HOUR"])


# -- saying it ----------------------------------------------------------------------------------------

def future_value_part_text(part):
    """One part of the future value as a sentence for staff."""
    detail = part.get("detail", {})
    if part["part"] == "renewal":
        return _("Renewal due %(date)s", date=format_date(date.fromisoformat(detail["date"]), "medium"))
    if part["part"] == "replacement":
        return _("%(product)s bought %(age)s years ago, replaced every %(cycle)d years",
                 product=detail["product"], age=detail["age_years"], cycle=detail["cycle_years"])
    if part["part"] == "engagement":
        return _("%(level)s in the community", level=EngagementLevel(detail["level"]).label)
    if part["part"] == "referrals":
        return ngettext("%(num)d friend referred", "%(num)d friends referred", detail["count"])
    return part["part"]
