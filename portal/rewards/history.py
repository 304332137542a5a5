"""A member's points history: each ledger entry with its reason and a link to what caused it.

Shown to the member and to moderators only (`may_see_history`). A link is
given only to a topic the viewer can read, so the history never leaks the
title or address of a staff-only or deleted topic.
"""
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from flask import url_for
from flask_babel import gettext as _
from sqlalchemy.orm import aliased, joinedload

from ..community.access import can_read, is_moderator
from ..community.models import Post, Topic
from ..events import Activity
from ..extensions import db
from ..pagination import PageNavigation
from .models import PointsEntry
from .rules import OTHER_LABELS, Rule

PER_PAGE = 20
MAX_PER_PAGE = 100
MAX_PAGE = 1_000_000


@dataclass
class Cause:
    """What an entry was about, where the viewer may follow it: a topic, a post or the referrals page."""
    type: str
    id: int | None
    url: str
    # What the link reads as: the topic's title, or "Your referrals".
    title: str


@dataclass
class HistoryRow:
    id: int
    delta: int
    rule: str
    reason: str
    created_at: datetime
    reverses_id: int | None
    cause: Cause | None

    @property
    def is_reversal(self):
        return self.reverses_id is not None


@dataclass
class HistoryPage(PageNavigation):
    """One page of history, shaped like a Flask-SQLAlchemy page for the pager macro."""
    items: list[HistoryRow]
    page: int
    per_page: int
    total: int


def may_see_history(viewer, member):
    """Whether `viewer` may read `member`'s points history: themself, or a moderator."""
    if not getattr(viewer, "is_authenticated", False):
        return False
    return viewer.id == member.id or is_moderator(viewer)


def rule_label(rule):
    """The reason a rule stands for, in the reader's language."""
    try:
        return str(Rule(rule).label)
    except ValueError:
        return str(OTHER_LABELS.get(rule, rule))


def points_history(user, page=1, per_page=PER_PAGE, *, viewer=None):
    """One page of `user`'s ledger, newest first, with reasons and links `viewer` (default: `user`) may follow.

    Reads a page in at most four queries whatever its size: the count, the
    entries with their activity, the posts and the topics they are about.
    A reversal is labelled "Reversed: <reason>" and links to what the entry it
    undoes was about.
    """
    viewer = viewer if viewer is not None else user
    page, per_page = min(max(int(page), 1), MAX_PAGE), min(max(int(per_page), 1), MAX_PER_PAGE)
    total = db.session.scalar(sa.select(sa.func.count()).where(PointsEntry.user_id == user.id))
    original = aliased(PointsEntry)
    cause = aliased(Activity)
    rows = db.session.execute(
        sa.select(PointsEntry, cause.object_type, cause.object_id)
        .outerjoin(original, original.id == PointsEntry.reverses_id)
        .outerjoin(cause, cause.id == sa.func.coalesce(original.activity_id, PointsEntry.activity_id))
        .where(PointsEntry.user_id == user.id)
        .order_by(PointsEntry.created_at.desc(), PointsEntry.id.desc())
        .limit(per_page).offset((page - 1) * per_page)
    ).all()
    links = _CauseLinks(viewer, user, [(kind, object_id) for _entry, kind, object_id in rows])
    items = [HistoryRow(id=entry.id, delta=entry.delta, rule=entry.rule, reason=_reason(entry),
                        created_at=entry.created_at, reverses_id=entry.reverses_id,
                        cause=links.cause(kind, object_id))
             for entry, kind, object_id in rows]
    return HistoryPage(items=items, page=page, per_page=per_page, total=total)


def _reason(entry):
    label = rule_label(entry.rule)
    return _("Reversed: %(reason)s", reason=label) if entry.reverses_id is not None else label


class _CauseLinks:
    """Links for one page of entries: posts and topics loaded in one query each."""

    def __init__(self, viewer, member, causes):
        self.viewer, self.member = viewer, member
        self.moderator = is_moderator(viewer)
        post_ids = {object_id for kind, object_id in causes if kind == "post"}
        topic_ids = {object_id for kind, object_id in causes if kind == "topic"}
        self.posts = {post.id: post for post in db.session.scalars(
            sa.select(Post).where(Post.id.in_(post_ids))
            .options(joinedload(Post.topic).joinedload(Topic.category)))} if post_ids else {}
        self.topics = {topic.id: topic for topic in db.session.scalars(
            sa.select(Topic).where(Topic.id.in_(topic_ids)).options(joinedload(Topic.category)))} if topic_ids else {}

    def _readable(self, topic):
        return (topic is not None and can_read(self.viewer, topic.category)
                and (topic.deleted_at is None or self.moderator))

    def cause(self, kind, object_id):
        if kind == "topic":
            topic = self.topics.get(object_id)
            if self._readable(topic):
                return Cause("topic", topic.id, url_for("community.topic", topic_id=topic.id), topic.title)
        elif kind == "post":
            post = self.posts.get(object_id)
            if post is not None and self._readable(post.topic):
                # ?post= finds the page the post is on; the anchor scrolls to it.
                return Cause("post", post.id, url_for("community.topic", topic_id=post.topic_id, post=post.number,
                                                      _anchor=f"post-{post.number}"), post.topic.title)
        elif kind == "referral" and self.viewer.id == self.member.id:
            # The referrals page shows the signed-in member's own; others get no link.
            return Cause("referral", object_id, url_for("referrals.mine"), _("Your referrals"))
        return None

