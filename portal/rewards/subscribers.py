"""Points for contributions, awarded by listening to the activity spine.

No view or service awards points itself: each rule below hears one verb and
writes ledger entries in the same transaction as the action.
"""
import sqlalchemy as sa

from ..community.models import Post
from ..events import Verb, listens_to
from ..moderation.links import are_linked
from .ledger import award, in_force, reverse
from .rules import Rule

VOTE_VERBS = (Verb.VOTED,)


@listens_to(Verb.TOPIC_CREATED)
def topic_created(verb, activity, **extra):
    award(activity.actor_id, Rule.TOPIC_CREATED, activity)


@listens_to(Verb.POST_CREATED)
def reply_created(verb, activity, **extra):
    award(activity.actor_id, Rule.REPLY_CREATED, activity)


@listens_to(Verb.VISITED)
def daily_visit(verb, activity, **extra):
    award(activity.actor_id, Rule.DAILY_VISIT, activity)


@listens_to(Verb.VOTED)
def voted(verb, activity, payload, obj, **extra):
    post = obj
    if payload.previous:
        _undo_vote(activity, post)
    if are_linked(activity.actor_id, post.author_id):
        return  # one person's accounts voting for each other earn and cost nothing
    if payload.value > 0:
        award(post.author_id, Rule.QUESTION_UPVOTED if post.number == 1 else Rule.ANSWER_UPVOTED, activity)
    else:
        award(post.author_id, Rule.DOWNVOTE_RECEIVED, activity)
        if post.number > 1:
            award(activity.actor_id, Rule.DOWNVOTE_CAST, activity)


@listens_to(Verb.VOTE_RETRACTED)
def vote_retracted(verb, activity, obj, **extra):
    _undo_vote(activity, obj)


@listens_to(Verb.VOTE_REVERSED)
def vote_reversed(verb, activity, payload, obj, **extra):
    _undo_vote(activity, obj, voter_id=payload.voter_id)


def _undo_vote(activity, post, voter_id=None):
    reverse(in_force(object_type="post", object_id=post.id, verbs=VOTE_VERBS,
                     actor_id=voter_id or activity.actor_id), activity)


@listens_to(Verb.ANSWER_ACCEPTED)
def answer_accepted(verb, activity, payload, **extra):
    if payload.answerer_id == payload.asker_id:
        return  # answering your own question earns nothing for accepting it
    award(payload.answerer_id, Rule.ANSWER_ACCEPTED, activity)
    award(payload.asker_id, Rule.ACCEPTED_AN_ANSWER, activity)


@listens_to(Verb.ANSWER_UNACCEPTED)
def answer_unaccepted(verb, activity, obj, **extra):
    reverse(in_force(object_type="post", object_id=obj.id, verbs=(Verb.ANSWER_ACCEPTED,)), activity)


@listens_to(Verb.POST_DELETED)
def post_deleted(verb, activity, obj, **extra):
    """Removing content takes back exactly what it earned, for everyone it earned something."""
    reverse(in_force(object_type="post", object_id=obj.id), activity)
    if obj.number == 1:  # a deleted topic takes its replies with it, and what they earned
        reverse(in_force(object_type="topic", object_id=obj.topic_id), activity)
        replies = sa.select(Post.id).where(Post.topic_id == obj.topic_id, Post.number > 1)
        reverse(in_force(object_type="post", object_id=replies), activity)


# -- referrals: a friend joining pays the referrer; becoming a customer pays both, once ------------
# Once by the ledger's constraint (member, rule, activity), and the referral converts once by its
# own conditional UPDATE. A rejected referral records REFERRAL_REJECTED instead: it earns nothing.

@listens_to(Verb.REFERRAL_SIGNED_UP)
def referral_signed_up(verb, activity, payload, **extra):
    award(payload.referrer_id, Rule.REFERRAL_SIGNED_UP, activity)


@listens_to(Verb.REFERRAL_CONVERTED)
def referral_converted(verb, activity, payload, **extra):
    award(payload.referrer_id, Rule.REFERRAL_CONVERTED, activity)
    award(payload.invitee_id, Rule.REFERRED_FRIEND_CONVERTED, activity)
