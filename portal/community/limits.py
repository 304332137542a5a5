"""Limits for brand-new accounts, against drive-by spam."""
from datetime import timedelta

import sqlalchemy as sa
from flask import current_app
from flask_babel import gettext as _

from ..errors import TooManyRequests
from ..extensions import db
from ..permissions import Permission, can
from ..sqltypes import utcnow
from .models import Post


def is_new_account(user):
    hours = current_app.config["NEW_ACCOUNT_HOURS"]
    return not user.is_staff and utcnow() - user.created_at < timedelta(hours=hours)


def may_post_links(user):
    """Links and images: not in an account's first hours, and only from the level that unlocks them."""
    return not is_new_account(user) and can(user, Permission.POST_LINKS)


def _posts_since(user, since, *, first_posts):
    number = Post.number == 1 if first_posts else Post.number > 1
    return db.session.scalar(sa.select(sa.func.count()).select_from(Post)
                             .where(Post.author_id == user.id, Post.created_at >= since, number))


def check_posting_limit(user, *, new_topic):
    """Raise TooManyRequests when a new account has used its first day's allowance."""
    if not is_new_account(user):
        return
    config = current_app.config
    since = utcnow() - timedelta(hours=config["NEW_ACCOUNT_HOURS"])
    if new_topic and _posts_since(user, since, first_posts=True) >= config["NEW_ACCOUNT_MAX_TOPICS"]:
        raise TooManyRequests("new_account_topic_limit", _(
            "New members can start %(n)d topics on their first day. Please come back tomorrow.",
            n=config["NEW_ACCOUNT_MAX_TOPICS"]))
    if not new_topic and _posts_since(user, since, first_posts=False) >= config["NEW_ACCOUNT_MAX_REPLIES"]:
        raise TooManyRequests("new_account_reply_limit", _(
            "New members can post %(n)d replies on their first day. Please come back tomorrow.",
            n=config["NEW_ACCOUNT_MAX_REPLIES"]))
