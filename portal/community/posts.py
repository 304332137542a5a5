"""Posts: replying, quoting, editing with history, deleting; the topic page."""
import sqlalchemy as sa
from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import joinedload, selectinload

from ..audit import audit
from ..errors import Conflict, Forbidden, Invalid, NotFound
from ..events import Verb, record_activity
from ..extensions import cache, db
from ..moderation.holds import hold_for
from ..payloads import PostCreated, PostDeleted, PostEdited, PostHeld
from ..permissions import Permission, ensure
from ..sqltypes import utcnow
from .access import can_write, is_moderator, may_see_held, may_see_hidden, visible_posts_clause
from .content import Body, clean_title
from .limits import check_posting_limit
from .models import Post, PostRevision, Topic, TopicKind, Vote
from .topics import get_topic


def get_post(user, post_id):
    """A post `user` may see, in a topic they may read; NotFound otherwise."""
    post = db.session.get(Post, post_id)
    if post is None:
        raise NotFound("post_not_found", _l("That post does not exist."))
    get_topic(user, post.topic_id)
    if post.deleted_at or (post.hidden_at and not may_see_hidden(user, post.author_id)) \
            or (post.held_at and not may_see_held(user, post.author_id)):
        raise NotFound("post_not_found", _l("That post does not exist."))
    return post


def _ensure_open(user, topic):
    if topic.is_closed and not is_moderator(user):
        raise Conflict("topic_closed", _("This topic is closed to new posts."))


def reply(author, topic_id, body, *, reply_to_id=None, now=None):
    """Add a post to a topic (quoting `reply_to_id` if given) at `now`; one activity; committed."""
    ensure(author, Permission.POST)
    topic = get_topic(author, topic_id)
    if topic.deleted_at:
        raise NotFound("topic_not_found", _l("That topic does not exist."))
    if not can_write(author, topic.category):
        raise Forbidden("category_read_only", _("Only staff can post in this category."))
    _ensure_open(author, topic)
    reply_to = None
    if reply_to_id is not None:
        reply_to = get_post(author, reply_to_id)
        if reply_to.topic_id != topic.id:
            raise Invalid(fields={"reply_to_id": _l("You can only quote posts of the same topic.")})
    content = Body(author, body)
    check_posting_limit(author, new_topic=False)
    hold = hold_for(author, content.source)
    number = _next_number(topic)
    now = now or utcnow()
    post = Post(topic_id=topic.id, number=number, author_id=author.id, reply_to_id=reply_to_id,
                source=content.source, html=content.html, sanitizer_version=content.version, created_at=now,
                held_at=now if hold else None)
    db.session.add(post)
    reply_to_author_id = reply_to.author_id if reply_to else None
    if hold:  # stored, not published: no counts, no points, nobody told until a moderator approves
        db.session.flush()
        record_activity(Verb.POST_HELD, actor=author, obj=post, occurred_at=now, payload=PostHeld(
            topic_id=topic.id, author_id=author.id, number=number, reasons=hold.reasons, terms=hold.terms,
            mentions=content.mentioned_ids, reply_to_author_id=reply_to_author_id))
        db.session.commit()
        return post
    count_reply(topic, post, now)
    db.session.flush()
    record_activity(Verb.POST_CREATED, actor=author, obj=post, occurred_at=now,
                    payload=PostCreated(topic_id=topic.id, number=number, mentions=content.mentioned_ids,
                                        reply_to_author_id=reply_to_author_id))
    db.session.commit()
    return post


def count_reply(topic, post, now):
    """A published reply in its topic's counters (in the caller's transaction)."""
    topic.reply_count = Topic.reply_count + 1
    topic.last_posted_at = now
    topic.last_poster_id = post.author_id


def _next_number(topic):
    # One UPDATE hands out the number, so two simultaneous replies never collide.
    return db.session.execute(
        sa.update(Topic).where(Topic.id == topic.id).values(post_count=Topic.post_count + 1)
        .returning(Topic.post_count)
    ).scalar_one()


def editable_post(editor, post_id):
    """A post `editor` may change: its author's or any for moderators; 404 unseen, 403 not theirs."""
    post = get_post(editor, post_id)
    if post.author_id != editor.id and not is_moderator(editor):
        raise Forbidden("not_author", _("You can only edit your own posts."))
    return post


def edit_post(editor, post_id, body, *, title=None, now=None):
    """Change a post's text (and the topic title on its first post), keeping the old text."""
    post = editable_post(editor, post_id)
    _ensure_open(editor, post.topic)
    apply_edit(editor, post, body, title=title, now=now or utcnow())
    db.session.commit()
    return post


def apply_edit(editor, post, body, *, title=None, now):
    """edit_post()'s work on a post `editor` may edit, in the caller's transaction; False when nothing changed."""
    topic = post.topic
    content = Body(editor, body)
    new_title = clean_title(title) if title is not None and post.number == 1 else None
    if content.source == post.source and (new_title is None or new_title == topic.title):
        return False
    if editor.id != post.author_id:  # a moderator's hand on someone else's words
        audit(editor, "post.edited", post, now=now, revision=post.revision_count + 1,
              **_changed_words(post, topic, content.source, new_title))
    post.revision_count += 1
    db.session.add(PostRevision(post_id=post.id, number=post.revision_count, editor_id=editor.id, created_at=now,
                                source=post.source, title=topic.title if post.number == 1 else None))
    post.source, post.html, post.sanitizer_version = content.source, content.html, content.version
    post.edited_at = now
    if new_title:
        topic.title = new_title
    record_activity(Verb.POST_EDITED, actor=editor, obj=post, occurred_at=now,
                    payload=PostEdited(topic_id=topic.id, revision=post.revision_count))
    return True


def _changed_words(post, topic, source, title, limit=1000):
    """{"before": …, "after": …} of a post's text (cut at `limit`) and title, for the audit log."""
    before, after = {}, {}
    if source != post.source:
        before["body"], after["body"] = post.source[:limit], source[:limit]
    if title and title != topic.title:
        before["title"], after["title"] = topic.title, title
    return {"before": before, "after": after}


def delete_post(actor, post_id, *, now=None):
    """Soft-delete a post (the whole topic for a first post); the author or a moderator."""
    post = get_post(actor, post_id)
    if post.author_id != actor.id and not is_moderator(actor):
        raise Forbidden("not_author", _("You can only delete your own posts."))
    apply_delete(actor, post, now=now or utcnow())
    db.session.commit()
    return post


def apply_delete(actor, post, *, now):
    """delete_post()'s work on a post `actor` may delete, in the caller's transaction."""
    topic = post.topic
    post.deleted_at = now
    if post.number == 1:
        topic.deleted_at = now
    elif post.held_at is None:  # a held reply was never counted
        topic.reply_count = Topic.reply_count - 1
    was_solution = topic.solved_post_id == post.id
    if was_solution:
        topic.solved_post_id = None
    if topic.official_post_id == post.id:
        topic.official_post_id = None
    record_activity(Verb.POST_DELETED, actor=actor, obj=post, occurred_at=now,
                    payload=PostDeleted(topic_id=topic.id, author_id=post.author_id, was_solution=was_solution,
                                        by_moderator=post.author_id != actor.id))
    if post.author_id != actor.id:
        audit(actor, "post.deleted", post, now=now, topic_id=topic.id, author_id=post.author_id,
              whole_topic=post.number == 1, before={"deleted": False}, after={"deleted": True})


def revisions(user, post_id):
    """A post's earlier versions, newest first."""
    post = get_post(user, post_id)
    return post, db.session.scalars(
        sa.select(PostRevision).where(PostRevision.post_id == post.id)
        .options(joinedload(PostRevision.editor)).order_by(PostRevision.number.desc())
    ).all()


def topic_posts(user, topic, *, page=1, per_page=None):
    """One page of a topic's posts in reading order, authors and quotes loaded.

    Questions list the accepted answer first, then the official answer, then by votes, then by time;
    other topics read in order. The first post always opens page one.
    """
    query = (sa.select(Post).where(Post.topic_id == topic.id, visible_posts_clause(user))
             .options(joinedload(Post.author), selectinload(Post.reply_to).joinedload(Post.author))
             .order_by(*reading_order(topic)))
    per_page = per_page or current_app.config["POSTS_PER_PAGE"]
    return db.paginate(query, page=page, per_page=per_page, max_per_page=100, error_out=False)


def reading_order(topic):
    """ORDER BY for a topic's posts: in order, or for questions the question, the accepted answer,
    the official (staff) answer, then answers by votes."""
    if topic.kind != TopicKind.QUESTION:
        return [Post.number]
    order = [sa.case((Post.number == 1, 0), else_=1)]
    if topic.solved_post_id:
        order.append(sa.case((Post.id == topic.solved_post_id, 0), else_=1))
    if topic.official_post_id:
        order.append(sa.case((Post.id == topic.official_post_id, 0), else_=1))
    return [*order, Post.score.desc(), Post.created_at, Post.id]


def visible_numbers(user, topic):
    """The post numbers `user` sees in `topic`, in reading order (one query)."""
    return db.session.scalars(sa.select(Post.number).where(Post.topic_id == topic.id, visible_posts_clause(user))
                              .order_by(*reading_order(topic))).all()


# Built once: the API's topic page runs it (the web's reads posts.topic_votes, cached per topic version).
_MY_VOTES = sa.select(Vote.post_id, Vote.value).where(Vote.voter_id == sa.bindparam("voter_id"),
                                                      Vote.post_id.in_(sa.bindparam("post_ids", expanding=True)))


# Every vote bumps its topic's version (freshness.py), so a reader's votes in a topic at one version never change.
_TOPIC_VOTES = sa.select(Vote.post_id, Vote.value).where(
    Vote.voter_id == sa.bindparam("voter_id"),
    Vote.post_id.in_(sa.select(Post.id).where(Post.topic_id == sa.bindparam("topic_id")).scalar_subquery()))


def topic_votes(user, topic_id, version):
    """{post id: +1 or -1} for `user`'s votes on the posts of topic `topic_id` at `version`: cached by it."""
    if not getattr(user, "is_authenticated", False):
        return {}
    key = f"topic-votes:{user.id}:{topic_id}:v{version}"
    votes = cache.get(key)
    if votes is None:
        votes = dict(db.session.execute(_TOPIC_VOTES, {"voter_id": user.id, "topic_id": topic_id}).all())
        cache.set(key, votes)
    return votes


def my_votes(user, post_ids):
    """{post id: +1 or -1} for the posts of `post_ids` that `user` voted on, in one query."""
    if not getattr(user, "is_authenticated", False) or not post_ids:
        return {}
    return dict(db.session.execute(_MY_VOTES, {"voter_id": user.id, "post_ids": list(post_ids)}).all())
