"""Badges: what they are, what earns them, who holds them.

Each badge is defined below with its rule: the verbs it listens to, who an
activity of that verb may have earned it for (`earner`, from the activity
alone), and, for badges that need a count or a score, the figure to measure
and the threshold it must reach (`measure`, read inside the action's
transaction, so after the vote or the acceptance it reacts to is applied).

One subscriber per verb checks the badges listening to it and awards those
newly earned, in the action's transaction. A badge is held at most once per
member (unique constraint on user_badges, `insert_unless_exists`), so repeated
or concurrent actions never duplicate it; each new badge records one
BADGE_AWARDED activity (actor = the holder, payload BadgeAwarded).

Badges are kept once earned, as on Stack Overflow: a retracted vote, an
unaccepted answer, a deleted post or a broken streak takes back the points the
action earned, never a badge.
"""
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from flask_babel import lazy_pgettext
from sqlalchemy.orm import contains_eager

from ..auth.models import User, UserStatus
from ..community.models import IdeaStatus, Post, Topic, TopicKind, Vote
from ..errors import NotFound
from ..events import Verb, listens_to, record_activity
from ..extensions import db
from ..idempotency import insert_unless_exists
from ..moderation.links import are_linked
from ..payloads import BadgeAwarded
from ..permissions import Role
from ..sqltypes import LabelledEnum, utcnow
from .models import UserBadge


class Tier(LabelledEnum):
    GOLD = "gold", lazy_pgettext("badge tier", "Gold")
    SILVER = "silver", lazy_pgettext("badge tier", "Silver")
    BRONZE = "bronze", lazy_pgettext("badge tier", "Bronze")


@dataclass(frozen=True)
class Badge:
    key: str
    tier: Tier
    name: object  # a lazy translated string
    description: object
    verbs: tuple[Verb, ...]
    # Who the activity may have earned the badge for: (activity, payload, obj) -> a user id or None. No queries.
    earner: Callable
    # A figure about the candidate (holder id, payload, obj) -> int, and the value it must reach.
    measure: Callable | None = None
    threshold: int = 1


# -- earners: who an activity may have earned a badge for ------------------------------------

def _actor(activity, payload, obj):
    return activity.actor_id


def _author_of_kind(kind):
    def earner(activity, payload, obj):
        return activity.actor_id if payload.kind == kind else None
    return earner


def _upvoter(activity, payload, obj):
    return activity.actor_id if payload.value > 0 else None


def _upvoted_author(first_post):
    """The author of an upvoted question (first_post) or answer; votes between linked accounts count for nothing."""
    def earner(activity, payload, obj):
        if payload.value <= 0 or (obj.number == 1) != first_post:
            return None
        return None if are_linked(activity.actor_id, payload.author_id) else payload.author_id
    return earner


_upvoted_answer_author = _upvoted_author(first_post=False)
_upvoted_question_author = _upvoted_author(first_post=True)


def _answerer(activity, payload, obj):
    return payload.answerer_id if payload.answerer_id != payload.asker_id else None  # yourself earns nothing


def _asker(activity, payload, obj):
    return payload.asker_id if payload.answerer_id != payload.asker_id else None


def _replier_to_someone_else(activity, payload, obj):
    return activity.actor_id if obj.topic.author_id != activity.actor_id else None


def _idea_author_when_taken_up(activity, payload, obj):
    taken_up = {IdeaStatus.PLANNED, IdeaStatus.IN_PROGRESS, IdeaStatus.DONE}
    return obj.author_id if payload.status in taken_up else None


def _referrer(activity, payload, obj):
    return payload.referrer_id


# -- measures: the figure a counting badge compares with its threshold -----------------------

def _post_score(holder_id, payload, obj):
    # Read from the database: the vote's UPDATE has run, the object in hand may predate it.
    return db.session.scalar(sa.select(Post.score).where(Post.id == obj.id)) or 0


def _question_score(holder_id, payload, obj):
    return db.session.scalar(
        sa.select(Post.score).join(Topic, Topic.id == Post.topic_id)
        .where(Post.id == obj.id, Topic.kind == TopicKind.QUESTION)) or 0


HELPFUL_WEEK_DAYS = 7


def _answer_upvotes_this_week(holder_id, payload, obj):
    since = utcnow() - timedelta(days=HELPFUL_WEEK_DAYS)
    return db.session.scalar(
        sa.select(sa.func.count()).select_from(Vote).join(Post, Post.id == Vote.post_id)
        .where(Post.author_id == holder_id, Post.number > 1, Post.deleted_at.is_(None),
               Vote.value == 1, Vote.updated_at >= since))


def _accepted_answers(holder_id, payload, obj):
    """Answers of the member's that are accepted now, on other people's questions."""
    return db.session.scalar(
        sa.select(sa.func.count()).select_from(Topic).join(Post, Post.id == Topic.solved_post_id)
        .where(Post.author_id == holder_id, Topic.author_id != holder_id,
               Topic.deleted_at.is_(None), Post.deleted_at.is_(None)))


def _welcomed_a_first_topic(holder_id, payload, obj):
    """1 if the reply is in the first topic a member (not staff) ever started."""
    topic = obj.topic
    first = db.session.scalar(
        sa.select(sa.func.min(Topic.id)).join(User, User.id == Topic.author_id)
        .where(Topic.author_id == topic.author_id, User.role == Role.MEMBER))
    return int(first == topic.id)


def _streak(holder_id, payload, obj):
    return payload.streak


# -- the badges -----------------------------------------------------------------------------

def _streak_badge(key, tier, days, name):
    return Badge(key, tier, name, _l("Visited the community %(days)d days in a row.", days=days),
                 (Verb.VISITED,), _actor, _streak, days)


CATALOGUE = (
    # bronze: the first steps
    Badge("first_post", Tier.BRONZE, _l("First post"), _l("Started a topic or replied for the first time."),
          (Verb.TOPIC_CREATED, Verb.POST_CREATED), _actor),
    Badge("first_question", Tier.BRONZE, _l("Curious"), _l("Asked a first question."),
          (Verb.TOPIC_CREATED,), _author_of_kind(TopicKind.QUESTION)),
    Badge("first_idea", Tier.BRONZE, _l("Visionary"), _l("Shared a first idea."),
          (Verb.TOPIC_CREATED,), _author_of_kind(TopicKind.IDEA)),
    Badge("supporter", Tier.BRONZE, _l("Supporter"), _l("Upvoted a post for the first time."),
          (Verb.VOTED,), _upvoter),
    Badge("scholar", Tier.BRONZE, _l("Scholar"), _l("Accepted an answer to one of your questions."),
          (Verb.ANSWER_ACCEPTED,), _asker),
    Badge("first_accepted_answer", Tier.BRONZE, _l("Helper"), _l("Had an answer accepted for the first time."),
          (Verb.ANSWER_ACCEPTED,), _answerer),
    Badge("welcomer", Tier.BRONZE, _l("Welcomer"), _l("Replied to a member's very first topic."),
          (Verb.POST_CREATED,), _replier_to_someone_else, _welcomed_a_first_topic),
    Badge("first_referral", Tier.BRONZE, _l("Connector"), _l("A friend you invited joined the community."),
          (Verb.REFERRAL_SIGNED_UP,), _referrer),
    _streak_badge("streak_7", Tier.BRONZE, 7, _l("Habit")),
    # silver: sustained help
    Badge("good_answer", Tier.SILVER, _l("Good answer"), _l("Wrote an answer that reached a score of 5."),
          (Verb.VOTED,), _upvoted_answer_author, _post_score, 5),
    Badge("popular_question", Tier.SILVER, _l("Popular question"),
          _l("Asked a question that reached a score of 10."),
          (Verb.VOTED,), _upvoted_question_author, _question_score, 10),
    Badge("helpful_week", Tier.SILVER, _l("Helpful week"),
          _l("Received 10 upvotes on your answers within 7 days."),
          (Verb.VOTED,), _upvoted_answer_author, _answer_upvotes_this_week, 10),
    Badge("ten_accepted_answers", Tier.SILVER, _l("Problem solver"), _l("Had 10 answers accepted."),
          (Verb.ANSWER_ACCEPTED,), _answerer, _accepted_answers, 10),
    Badge("idea_planned", Tier.SILVER, _l("Idea taken up"),
          _l("The team planned, started or shipped an idea you shared."),
          (Verb.IDEA_STATUS_CHANGED,), _idea_author_when_taken_up),
    _streak_badge("streak_30", Tier.SILVER, 30, _l("Enthusiast")),
    # gold: rare
    Badge("great_answer", Tier.GOLD, _l("Great answer"), _l("Wrote an answer that reached a score of 10."),
          (Verb.VOTED,), _upvoted_answer_author, _post_score, 10),
    Badge("fifty_accepted_answers", Tier.GOLD, _l("Guru"), _l("Had 50 answers accepted."),
          (Verb.ANSWER_ACCEPTED,), _answerer, _accepted_answers, 50),
    Badge("referral_customer", Tier.GOLD, _l("Rainmaker"),
          _l("A friend you invited became a customer."),
          (Verb.REFERRAL_CONVERTED,), _referrer),
    _streak_badge("streak_100", Tier.GOLD, 100, _l("Fanatic")),
)
BADGES = {badge.key: badge for badge in CATALOGUE}
assert len(BADGES) == len(CATALOGUE), "badge keys must be unique"
TIERS = tuple(Tier)  # gold first, as the badges page lists them


def get_badge(key):
    """The badge with this key; NotFound otherwise."""
    badge = BADGES.get(key)
    if badge is None:
        raise NotFound("badge_not_found", _l("That badge does not exist."))
    return badge


def badge_name(key):
    """The translated name of a badge, or its key if the badge no longer exists."""
    badge = BADGES.get(key)
    return str(badge.name) if badge else key


# -- awarding --------------------------------------------------------------------------------

def award_badge(user_id, key, cause=None):
    """Give a member a badge, once; True if this call awarded it.

    Inside the caller's transaction. Only a new award records BADGE_AWARDED
    (whose subscribers notify the member). Dated by its cause.
    """
    when = cause.occurred_at if cause is not None else utcnow()
    if not insert_unless_exists(UserBadge, {"user_id": user_id, "badge": key,
                                            "activity_id": cause.id if cause is not None else None,
                                            "awarded_at": when}, key=("user_id", "badge")):
        return False
    record_activity(Verb.BADGE_AWARDED, actor=db.session.get(User, user_id), occurred_at=when,
                    payload=BadgeAwarded(badge=key))
    return True


def _held(pairs):
    """The (user id, badge key) pairs among `pairs` already held: one query."""
    user_ids = {user_id for user_id, _key in pairs}
    keys = {key for _user_id, key in pairs}
    return set(db.session.execute(
        sa.select(UserBadge.user_id, UserBadge.badge)
        .where(UserBadge.user_id.in_(user_ids), UserBadge.badge.in_(keys))).all())


def badges_earned(verb, activity, payload, obj=None, **extra):
    """Award every badge listening to `verb` that this activity earned for someone."""
    earners, measures = {}, {}
    candidates = []
    for badge in _LISTENING[verb]:
        if badge.earner not in earners:
            earners[badge.earner] = badge.earner(activity, payload, obj)
        if earners[badge.earner] is not None:
            candidates.append((earners[badge.earner], badge))
    if not candidates:
        return
    held = _held({(holder, badge.key) for holder, badge in candidates})
    for holder, badge in candidates:
        if (holder, badge.key) in held:
            continue
        if badge.measure is not None:
            if (badge.measure, holder) not in measures:  # each figure is read once per activity
                measures[badge.measure, holder] = badge.measure(holder, payload, obj)
            if measures[badge.measure, holder] < badge.threshold:
                continue
        award_badge(holder, badge.key, activity)


def _by_verb():
    listening = {}
    for badge in CATALOGUE:
        for verb in badge.verbs:
            listening.setdefault(verb, []).append(badge)
    return listening


_LISTENING = _by_verb()
listens_to(*_LISTENING)(badges_earned)


# -- reading ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class BadgeSummary:
    badge: Badge
    holders: int
    held: bool = False


@dataclass(frozen=True)
class HeldBadge:
    """A badge a member holds, as the badge chips and the API show it."""
    badge: Badge
    awarded_at: datetime

    @property
    def key(self):
        return self.badge.key

    @property
    def name(self):
        return str(self.badge.name)

    @property
    def description(self):
        return str(self.badge.description)

    @property
    def tier(self):
        return self.badge.tier.value


def _shown_holders():
    return User.status != UserStatus.DELETED


def holder_counts():
    """{badge key: how many members hold it}, deleted accounts left out: one aggregate query."""
    return dict(db.session.execute(
        sa.select(UserBadge.badge, sa.func.count()).join(User, User.id == UserBadge.user_id)
        .where(_shown_holders()).group_by(UserBadge.badge)).all())


def held_keys(user):
    """The keys of the badges `user` holds (empty for visitors): one query, none for visitors."""
    if not getattr(user, "is_authenticated", False):
        return set()
    return set(db.session.scalars(sa.select(UserBadge.badge).where(UserBadge.user_id == user.id)))


def badge_catalogue(user=None):
    """Every badge with its holder count and whether `user` holds it, in catalogue order."""
    counts, mine = holder_counts(), held_keys(user)
    return [BadgeSummary(badge, counts.get(badge.key, 0), badge.key in mine) for badge in CATALOGUE]


def badges_by_tier(user=None):
    """[(tier, [BadgeSummary])], gold first; two queries at most."""
    summaries = badge_catalogue(user)
    return [(tier, [s for s in summaries if s.badge.tier == tier]) for tier in TIERS]


def badge_holders(badge, *, page=1, per_page=30):
    """One page of the members holding `badge`, newest award first, the members loaded (two queries)."""
    query = (sa.select(UserBadge).join(UserBadge.user).where(UserBadge.badge == badge.key, _shown_holders())
             .options(contains_eager(UserBadge.user))
             .order_by(UserBadge.awarded_at.desc(), UserBadge.id.desc()))
    return db.paginate(query, page=page, per_page=per_page, max_per_page=100, error_out=False)


def badges_of(user_id):
    """The badges a member holds, newest first, as [HeldBadge]: one query."""
    rows = db.session.execute(
        sa.select(UserBadge.badge, UserBadge.awarded_at).where(UserBadge.user_id == user_id)
        .order_by(UserBadge.awarded_at.desc(), UserBadge.id.desc())).all()
    return [HeldBadge(BADGES[key], awarded_at) for key, awarded_at in rows if key in BADGES]
