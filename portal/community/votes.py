"""Votes on posts: one per voter and post, changeable, retractable."""
import sqlalchemy as sa
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from ..audit import audit
from ..auth.models import User
from ..errors import Conflict, Forbidden, Invalid
from ..events import Verb, record_activity
from ..extensions import db
from ..idempotency import insert_unless_exists
from ..payloads import Voted, VoteRetracted, VoteReversed
from ..permissions import Permission, ensure
from ..sqltypes import utcnow
from .models import Post, Topic, TopicKind, Vote
from .posts import get_post


def _adjust_score(post, delta):
    db.session.execute(sa.update(Post).where(Post.id == post.id).values(score=Post.score + delta))
    if post.number == 1:
        db.session.execute(sa.update(Topic).where(Topic.id == post.topic_id).values(score=Topic.score + delta))


def _check_votable(voter, post, value):
    if value not in (1, -1):
        raise Invalid(fields={"value": _l("Vote 1 (up) or -1 (down).")})
    if post.author_id == voter.id:
        raise Forbidden("own_post", _("You can't vote on your own post."))
    if post.held_at is not None:  # not published yet: a vote now would pay for a post nobody may read
        raise Conflict("post_held", _("This post waits for a moderator; it takes votes once it is published."))
    if value == -1 and post.number == 1 and post.topic.kind == TopicKind.IDEA:
        raise Invalid("ideas_upvote_only", fields={"value": _l("Ideas take votes for, not against.")})


def cast(voter, post_id, value, *, now=None):
    """Record `voter`'s vote on a post (at `now`), or change it; a repeat of the same vote changes nothing."""
    ensure(voter, Permission.VOTE)
    post = get_post(voter, post_id)
    _check_votable(voter, post, value)
    existing = db.session.scalar(
        sa.select(Vote).where(Vote.voter_id == voter.id, Vote.post_id == post.id).with_for_update()
    )
    if existing is not None and existing.value == value:
        return post
    previous, now = existing.value if existing is not None else 0, now or utcnow()
    if existing is None:
        if not _insert_vote(voter, post, value, now):
            db.session.rollback()  # a simultaneous identical request won the unique constraint
            return get_post(voter, post_id)
    else:
        existing.value, existing.updated_at = value, now
    _adjust_score(post, value - previous)
    record_activity(Verb.VOTED, actor=voter, obj=post, occurred_at=now,
                    payload=Voted(topic_id=post.topic_id, author_id=post.author_id, value=value, previous=previous))
    db.session.commit()
    db.session.refresh(post)
    return post


def _insert_vote(voter, post, value, now):
    return insert_unless_exists(Vote, {"voter_id": voter.id, "post_id": post.id, "value": value,
                                       "created_at": now, "updated_at": now}, key=("voter_id", "post_id"))


def retract(voter, post_id, *, now=None):
    """Withdraw `voter`'s vote on a post; nothing happens if there is none."""
    ensure(voter, Permission.VOTE)
    post = get_post(voter, post_id)
    vote = db.session.scalar(
        sa.select(Vote).where(Vote.voter_id == voter.id, Vote.post_id == post.id).with_for_update()
    )
    if vote is None:
        return post
    db.session.delete(vote)
    _adjust_score(post, -vote.value)
    record_activity(Verb.VOTE_RETRACTED, actor=voter, obj=post, occurred_at=now,
                    payload=VoteRetracted(topic_id=post.topic_id, author_id=post.author_id, previous=vote.value))
    db.session.commit()
    db.session.refresh(post)
    return post


def reverse_votes_between(moderator, first_id, second_id):
    """Take back every vote either account cast on the other's posts, and what those votes earned.

    For sockpuppets: each vote is removed, its post's score corrected and a
    VOTE_REVERSED activity recorded, whose subscribers reverse the points.
    All in one transaction; returns how many votes were reversed.
    """
    ensure(moderator, Permission.MODERATE)
    pairs = sa.or_(sa.and_(Vote.voter_id == first_id, Post.author_id == second_id),
                   sa.and_(Vote.voter_id == second_id, Post.author_id == first_id))
    rows = db.session.execute(sa.select(Vote, Post).join(Post, Post.id == Vote.post_id).where(pairs)
                              .order_by(Vote.id).with_for_update(of=Vote)).all()
    for vote, post in rows:
        db.session.delete(vote)
        _adjust_score(post, -vote.value)
        record_activity(Verb.VOTE_REVERSED, actor=moderator, obj=post,
                        payload=VoteReversed(topic_id=post.topic_id, author_id=post.author_id,
                                             voter_id=vote.voter_id, previous=vote.value))
    audit(moderator, "votes.reversed_between", db.session.get(User, first_id), other_id=second_id, votes=len(rows))
    db.session.commit()
    return len(rows)
