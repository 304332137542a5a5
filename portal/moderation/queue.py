"""The review queue: every post waiting for a moderator's decision, oldest first.

Items are put here by the spine's subscribers (portal/moderation/subscribers.py),
never by a view; the decisions live in decisions.py. This module owns the
queue's rows and what its page shows, read in a fixed number of queries.
"""
from collections import Counter, defaultdict
from dataclasses import dataclass, field

import sqlalchemy as sa
from flask import g, has_request_context
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import aliased, joinedload

from ..auth.models import User
from ..community.models import Flag, Post, Topic
from ..errors import NotFound
from ..extensions import db
from ..idempotency import insert_unless_exists
from ..pagination import CountedPage
from ..permissions import Permission, ensure
from .models import OPEN_REVIEW_WHERE, ReviewItem, ReviewStatus
from .notes import notes_for

PER_PAGE = 20


# -- writing (from the subscribers) -----------------------------------------------------------------

def enqueue_post(post, reasons, *, terms=(), now):
    """Put `post` in the queue for `reasons`, merged into its open item if it has one; (item, whether new).
    Runs in the caller's transaction (a subscriber's).

    The partial unique index keeps one open item per post however many flags
    and holds arrive at once; the row lock makes concurrent merges wait.
    """
    created = insert_unless_exists(ReviewItem, {
        "post_id": post.id, "reasons": list(reasons), "terms": list(terms), "status": ReviewStatus.OPEN,
        "created_at": now, "note": ""}, key=("post_id",), where=sa.text(OPEN_REVIEW_WHERE))
    item = db.session.scalar(sa.select(ReviewItem).where(ReviewItem.post_id == post.id,
                                                         ReviewItem.status == ReviewStatus.OPEN)
                             .with_for_update().execution_options(populate_existing=True))
    if not created:
        merged = list(dict.fromkeys([*item.reasons, *reasons]))
        if merged != item.reasons:
            item.reasons = merged
        if terms:
            item.terms = list(dict.fromkeys([*item.terms, *terms]))
    return item, created


def close_items_of_deleted(post, actor_id, now):
    """Close the open items of a deleted post (of every post in a deleted topic): nothing is left to decide.

    Runs in the caller's transaction (the deletion's)."""
    posts = (sa.select(Post.id).where(Post.topic_id == post.topic_id) if post.number == 1
             else sa.select(sa.literal(post.id)))
    db.session.execute(
        sa.update(ReviewItem).where(ReviewItem.post_id.in_(posts), ReviewItem.status == ReviewStatus.OPEN)
        .values(status=ReviewStatus.POST_DELETED, decided_at=now, decided_by_id=actor_id)
        .execution_options(synchronize_session=False))


# -- reading ---------------------------------------------------------------------------------------------

def open_count():
    """How many items wait for a decision: one count over the status index, once per request."""
    if has_request_context() and "review_open_count" in g:
        return g.review_open_count
    count = db.session.scalar(sa.select(sa.func.count()).select_from(ReviewItem)
                              .where(ReviewItem.status == ReviewStatus.OPEN))
    if has_request_context():
        g.review_open_count = count
    return count


def get_item(viewer, item_id):
    """One queue item, open or decided, for a moderator; NotFound otherwise."""
    ensure(viewer, Permission.MODERATE)
    item = db.session.get(ReviewItem, item_id, options=[joinedload(ReviewItem.post), joinedload(ReviewItem.decided_by)])
    if item is None:
        raise NotFound("review_item_not_found", _l("That review item does not exist."))
    return item


def open_items():
    """select() of the open items, oldest first, with the post, its topic, author (and customer) and the post
    it replies to loaded in the same statement."""
    quoted = aliased(Post)
    return (sa.select(ReviewItem).where(ReviewItem.status == ReviewStatus.OPEN)
            .options(joinedload(ReviewItem.post).options(
                joinedload(Post.topic).joinedload(Topic.category),
                joinedload(Post.author).joinedload(User.customer),
                joinedload(Post.reply_to.of_type(quoted)).joinedload(quoted.author)))
            .order_by(ReviewItem.created_at, ReviewItem.id))


@dataclass
class AuthorHistory:
    """What a moderator wants to know about a post's author before deciding."""
    author: User
    earlier_flags: int = 0
    # {ReviewStatus: how many of their earlier items ended so}
    outcomes: dict = field(default_factory=dict)
    notes: list = field(default_factory=list)
    # Their warnings, silences and suspensions, newest first (sanctions.py).
    sanctions: list = field(default_factory=list)


@dataclass
class QueueEntry:
    item: ReviewItem
    flags: list  # of (Flag, flagger User), oldest first
    history: AuthorHistory

    @property
    def post(self):
        return self.item.post


def queue_page(viewer, *, page=1, per_page=PER_PAGE):
    """(page, entries) of the open queue for a moderator: the same number of queries for 1 item or 100."""
    ensure(viewer, Permission.MODERATE)
    pagination = CountedPage(open_items(), page=page, per_page=per_page)
    items = pagination.items
    post_ids = [item.post_id for item in items]
    flags = defaultdict(list)
    for flag, flagger in db.session.execute(
            sa.select(Flag, User).join(User, User.id == Flag.flagger_id).where(Flag.post_id.in_(post_ids))
            .order_by(Flag.created_at, Flag.id)):
        flags[flag.post_id].append((flag, flagger))
    histories = author_histories(viewer, [item.post.author for item in items], leave_out_posts=post_ids)
    entries = [QueueEntry(item=item, flags=flags[item.post_id], history=histories[item.post.author_id])
               for item in items]
    return pagination, entries


def author_histories(viewer, authors, *, leave_out_posts=()):
    """{author id: AuthorHistory} for a moderator, in five queries however many authors; the flags on
    `leave_out_posts` (the ones being decided) are not "earlier"."""
    ensure(viewer, Permission.MODERATE)
    author_ids = list({author.id for author in authors})
    earlier_flags = dict(db.session.execute(
        sa.select(Post.author_id, sa.func.count(Flag.id)).join(Flag, Flag.post_id == Post.id)
        .where(Post.author_id.in_(author_ids), Post.id.not_in(list(leave_out_posts))).group_by(Post.author_id)).all())
    outcomes = defaultdict(Counter)
    for author_id, status, n in db.session.execute(
            sa.select(Post.author_id, ReviewItem.status, sa.func.count()).join(Post, Post.id == ReviewItem.post_id)
            .where(Post.author_id.in_(author_ids), ReviewItem.status != ReviewStatus.OPEN)
            .group_by(Post.author_id, ReviewItem.status)):
        outcomes[author_id][ReviewStatus(status)] = n
    notes = notes_for(viewer, author_ids)
    from .sanctions import sanctions_of_members  # sanctions decides queue items through decisions

    sanctions = sanctions_of_members(viewer, author_ids)
    return {author.id: AuthorHistory(
        author=author, earlier_flags=earlier_flags.get(author.id, 0), outcomes=dict(outcomes[author.id]),
        notes=notes.get(author.id, []), sanctions=sanctions.get(author.id, [])) for author in authors}


def items_of_withheld(posts):
    """{post id: its open item, else its last decided one} for the held and hidden posts among `posts`
    (one query, none when no post is held or hidden): what their author is told and moderators link to.

    Only posts the reader may see reach here: their author's and moderators' pages."""
    withheld_ids = [post.id for post in posts if post.held_at is not None or post.hidden_at is not None]
    if not withheld_ids:
        return {}
    items = {}
    for item in db.session.scalars(sa.select(ReviewItem).where(ReviewItem.post_id.in_(withheld_ids))
                                   .order_by(ReviewItem.id)):
        if item.post_id not in items or items[item.post_id].status != ReviewStatus.OPEN:
            items[item.post_id] = item
    return items


def items_of_member(viewer, member_id, limit=10):
    """A member's latest queue items, open or decided, newest first, with their posts and deciders."""
    ensure(viewer, Permission.MODERATE)
    return db.session.scalars(
        sa.select(ReviewItem).join(Post, Post.id == ReviewItem.post_id).where(Post.author_id == member_id)
        .options(joinedload(ReviewItem.post).joinedload(Post.topic), joinedload(ReviewItem.decided_by))
        .order_by(ReviewItem.created_at.desc(), ReviewItem.id.desc()).limit(limit)).all()
