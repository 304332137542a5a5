"""The moderators' daily digest: one mail each listing the review items waiting longer than a day."""
from datetime import timedelta

import sqlalchemy as sa
from flask_babel import lazy_ngettext

from ..auth.models import User, UserStatus
from ..emails import queue_mail
from ..extensions import db
from ..permissions import Permission, roles_with
from ..sqltypes import utcnow
from .models import ReviewItem
from .queue import open_items

WAITING = timedelta(days=1)
LISTED_MAX = 50


def send_digest(*, now=None):
    """Queue the digest mail, in each moderator's language, when items have waited longer than a day; committed.

    Nothing is sent when none has. Returns how many moderators were mailed.
    """
    now = now or utcnow()
    old = open_items().where(ReviewItem.created_at <= now - WAITING)
    total = db.session.scalar(sa.select(sa.func.count()).select_from(old.order_by(None).subquery()))
    if not total:
        return 0
    items = db.session.scalars(old.limit(LISTED_MAX)).unique().all()
    moderators = db.session.scalars(sa.select(User).where(
        User.role.in_(roles_with(Permission.MODERATE)), User.status == UserStatus.ACTIVE).order_by(User.id)).all()
    from ..urls import public_url

    link = public_url("moderation.queue")
    for moderator in moderators:
        queue_mail(moderator, lazy_ngettext("%(num)d post has waited more than a day for review",
                                            "%(num)d posts have waited more than a day for review", total),
                   "review_digest", items=items, total=total, now=now, link=link,
                   post_link=lambda item: public_url("community.post_link", post_id=item.post_id))
    db.session.commit()
    return len(moderators)


def run_digest_message(message):
    send_digest()
