"""Complaints: posts by a customer's people that use complaint words, kept for churn risk and the reports.

The words are looked for when a post is written or edited (a subscriber of
the spine), so churn risk and the reports count rows instead of reading
every post again.
"""
import sqlalchemy as sa

from ..auth.models import User
from ..community.models import Post, Topic
from ..events import Verb, listens_to
from ..extensions import db
from ..text import Terms
from .models import CustomerComplaint

COMPLAINT_WORDS = Terms((
    "投诉", "退款", "不满意", "太慢", "取消", "换供应商", "换一家", "失望", "差评", "退货", "解约", "不能用",
    "没人回复",
    "complain*", "complaint*", "cancel*", "refund*", "frustrat*", "disappoint*", "unacceptable", "switching",
    "switch to", "too slow", "unhappy", "terrible", "not working", "still broken", "waste of money",
))


@listens_to(Verb.TOPIC_CREATED, Verb.POST_CREATED, Verb.POST_EDITED, Verb.TOPIC_EDITED, Verb.POST_RESTORED)
def post_written(verb, activity, **extra):
    post_id = activity.payload.get("post_id") if verb == Verb.TOPIC_CREATED else activity.object_id
    if verb == Verb.TOPIC_EDITED:
        post_id = db.session.scalar(sa.select(Post.id).where(Post.topic_id == activity.object_id,
                                                             Post.number == 1))
    if post_id is not None:
        new = verb in (Verb.TOPIC_CREATED, Verb.POST_CREATED)
        note_complaints(db.session.get(Post, post_id), at=activity.occurred_at, new=new)


@listens_to(Verb.POST_DELETED, Verb.POST_HIDDEN)
def post_gone(verb, activity, **extra):
    db.session.execute(sa.delete(CustomerComplaint).where(CustomerComplaint.post_id == activity.object_id))


def note_complaints(post, *, at, new=False):
    """Keep the post's complaint row in step with its text (and, for an opening post, its title), in the
    caller's transaction.

    `new`: the post was just written, so it has no row yet (one query spared on every post).
    """
    if post is None:
        return
    author = db.session.get(User, post.author_id)
    text = post.source
    if post.number == 1:
        text = f"{db.session.get(Topic, post.topic_id).title}\n{text}"
    found = COMPLAINT_WORDS.found_in(text) if author is not None and author.customer_id else []
    words = [word.rstrip("*") for word in found]
    existing = None if new else db.session.scalar(
        sa.select(CustomerComplaint).where(CustomerComplaint.post_id == post.id))
    if not words:
        if existing is not None:
            db.session.delete(existing)
        return
    if existing is None:
        db.session.add(CustomerComplaint(customer_id=author.customer_id, post_id=post.id, user_id=author.id,
                                         words=words, occurred_at=post.created_at or at))
    else:
        existing.words, existing.customer_id = words, author.customer_id
