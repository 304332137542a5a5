"""What leads hear on the spine: buying words, questions about a higher plan, referred friends joining,
customers coming back; and reps leaving, whose open leads go back to the pool.

Only members' own actions are signals: staff answering "the price is…" is
not a customer wanting to buy.
"""
from datetime import timedelta

import sqlalchemy as sa

from ..auth.models import User
from ..community.models import Post, Topic, TopicKind
from ..crm.models import Customer, LifecycleStage
from ..events import Activity, Verb, listens_to
from ..extensions import db
from ..permissions import ROLE_PERMISSIONS, Permission, Role
from ..text import Terms
from .models import LeadSignal, SignalKind
from .rules import lead_rules
from .scoring import add_signal, has_recent_signal, subject_of

# English as whole words (a trailing * allows endings), so "priceless" is no price; Chinese anywhere in the
# text, Traditional folded to Simplified (portal.text.Terms).
INTENT_WORDS = Terms((
    "报价", "价格", "多少钱", "升级", "续费", "采购", "试用", "合同", "换新", "更换", "以旧换新", "增购",
    "pricing", "price", "prices", "quote", "quotes", "quotation", "upgrad*", "renew*", "licence*", "license*",
    "seats", "trial", "purchas*", "contract*", "replac*", "trade in", "trade-in",
))
QUIET_STAGES = (LifecycleStage.CHURNED_CUSTOMER, LifecycleStage.DORMANT_PROSPECT, LifecycleStage.LOST_PROSPECT)
# What a member does that shows they are back.
PRESENCE_VERBS = (Verb.VISITED, Verb.LOGGED_IN, Verb.TOPIC_CREATED, Verb.POST_CREATED)


def _member(actor):
    return actor is not None and actor.role == Role.MEMBER


# -- what members write ---------------------------------------------------------------------------

@listens_to(Verb.TOPIC_CREATED, Verb.POST_CREATED, Verb.POST_EDITED, Verb.TOPIC_EDITED, Verb.POST_RESTORED)
def post_written(verb, activity, actor=None, **extra):
    post = _written_post(verb, activity)
    if post is None:
        return
    author = db.session.get(User, post.author_id)
    if not _member(author):
        return
    topic = db.session.get(Topic, post.topic_id)
    text = f"{topic.title}\n{post.source}" if post.number == 1 else post.source
    terms = INTENT_WORDS.found_in(text)
    if terms:
        _signal_once(SignalKind.INTENT_WORDS, author, activity, topic, post, {"terms": terms})
    if post.number == 1 and _about_higher_plan(topic):
        _signal_once(SignalKind.HIGHER_PLAN, author, activity, topic, post, {"category_id": topic.category_id})


def _written_post(verb, activity):
    if verb == Verb.TOPIC_CREATED:
        return db.session.get(Post, activity.payload["post_id"])
    if verb == Verb.TOPIC_EDITED:
        return db.session.scalar(sa.select(Post).where(Post.topic_id == activity.object_id, Post.number == 1))
    return db.session.get(Post, activity.object_id)


def _about_higher_plan(topic):
    rules = lead_rules()
    if topic.kind != TopicKind.QUESTION:
        return False
    tags = {tag.name.lower() for tag in topic.tags}
    return topic.category_id in rules.higher_plan_category_ids or bool(tags & set(rules.higher_plan_tags))


def _signal_once(kind, author, activity, topic, post, detail):
    """A post's words count once: its first version with them, not every edit."""
    exists = db.session.scalar(sa.select(LeadSignal.id).where(LeadSignal.kind == kind, LeadSignal.post_id == post.id))
    if exists is None:
        add_signal(kind, customer_id=author.customer_id, member_id=author.id, occurred_at=activity.occurred_at,
                   activity_id=activity.id, topic_id=topic.id, post_id=post.id, detail=detail,
                   now=activity.occurred_at)


@listens_to(Verb.POST_DELETED, Verb.POST_HIDDEN)
def post_gone(verb, activity, **extra):
    # What no lead has taken up yet goes with the post; a lead keeps the signals it was made from.
    db.session.execute(sa.delete(LeadSignal).where(LeadSignal.post_id == activity.object_id,
                                                   LeadSignal.lead_id.is_(None)))


# -- who joins and who comes back -------------------------------------------------------------------

@listens_to(Verb.REFERRAL_SIGNED_UP)
def friend_joined(verb, activity, **extra):
    invitee = db.session.get(User, activity.payload["invitee_id"])
    if invitee is not None:
        add_signal(SignalKind.REFERRAL_SIGNUP, customer_id=invitee.customer_id, member_id=invitee.id,
                   occurred_at=activity.occurred_at, activity_id=activity.id,
                   detail={"referrer_id": activity.payload["referrer_id"]}, now=activity.occurred_at)


@listens_to(*PRESENCE_VERBS)
def member_present(verb, activity, actor=None, **extra):
    if not _member(actor) or activity.customer_id is None:
        return
    rules = lead_rules()
    since = activity.occurred_at - timedelta(days=rules.came_back_after_days)
    subject = subject_of(activity.customer_id, actor.id)
    if not _was_quiet(activity, since) or has_recent_signal(subject, SignalKind.CAME_BACK, since=since):
        return
    add_signal(SignalKind.CAME_BACK, customer_id=activity.customer_id, member_id=actor.id,
               occurred_at=activity.occurred_at, activity_id=activity.id, now=activity.occurred_at)


def _was_quiet(activity, since):
    """Whether the customer had gone quiet before this: a churned or dormant stage, or no action since `since`
    (though some before)."""
    stage = db.session.scalar(sa.select(Customer.lifecycle_stage).where(Customer.id == activity.customer_id))
    if stage in QUIET_STAGES:
        return True
    earlier = sa.select(sa.func.max(Activity.occurred_at)).where(
        Activity.customer_id == activity.customer_id, Activity.id != activity.id,
        Activity.occurred_at < activity.occurred_at, Activity.actor_id.is_not(None),
        Activity.verb.in_([str(v) for v in PRESENCE_VERBS]))
    last = db.session.scalar(earlier)
    return last is not None and last < since


# -- reps who leave ---------------------------------------------------------------------------------

@listens_to(Verb.USER_SUSPENDED, Verb.USER_ROLE_CHANGED, Verb.ACCOUNT_DELETED)
def rep_left(verb, activity, **extra):
    from .pipeline import return_leads_of

    if verb == Verb.USER_ROLE_CHANGED and Permission.WORK_LEADS in ROLE_PERMISSIONS[Role(activity.payload["to_role"])]:
        return
    return_leads_of(activity.object_id, reason="owner_left", now=activity.occurred_at)
