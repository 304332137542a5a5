"""Members flag posts; enough distinct flags hide a post until a moderator looks."""
import sqlalchemy as sa
from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from ..errors import Conflict, Forbidden, Invalid
from ..events import Verb, record_activity
from ..extensions import db
from ..idempotency import insert_unless_exists
from ..payloads import PostFlagged, PostHidden
from ..permissions import Permission, ensure
from ..sqltypes import utcnow
from .models import Flag, FlagReason
from .posts import get_post

TEXT_MAX = 500


def flag_post(flagger, post_id, reason, text=""):
    """One flag per member and post; the FLAGS_TO_HIDE-th open flag hides the post."""
    ensure(flagger, Permission.FLAG)
    post = get_post(flagger, post_id)
    try:
        reason = FlagReason(reason)
    except ValueError:
        raise Invalid(fields={"reason": _l("Choose why you flag this post.")}) from None
    text = (text or "").strip()
    if reason == FlagReason.OTHER and not text:
        raise Invalid(fields={"text": _l("Tell the moderators what is wrong.")})
    if len(text) > TEXT_MAX:
        raise Invalid(fields={"text": _l("Keep it to %(n)d characters.", n=TEXT_MAX)})
    if post.author_id == flagger.id:
        raise Forbidden("own_post", _("You can't flag your own post."))
    if not insert_unless_exists(Flag, {"post_id": post.id, "flagger_id": flagger.id, "reason": reason,
                                       "text": text, "created_at": utcnow()}, key=("post_id", "flagger_id")):
        raise Conflict("already_flagged", _("You have already flagged this post."))
    flag = db.session.scalar(sa.select(Flag).where(Flag.post_id == post.id, Flag.flagger_id == flagger.id))
    record_activity(Verb.POST_FLAGGED, actor=flagger, obj=post,
                    payload=PostFlagged(topic_id=post.topic_id, reason=reason.value, flag_id=flag.id,
                                        author_id=post.author_id))
    if post.hidden_at is None and _open_flags(post) >= current_app.config["FLAGS_TO_HIDE"]:
        post.hidden_at = utcnow()
        record_activity(Verb.POST_HIDDEN, actor=None, obj=post,
                        payload=PostHidden(topic_id=post.topic_id, author_id=post.author_id))
    db.session.commit()
    return flag


def _open_flags(post):
    return db.session.scalar(sa.select(sa.func.count(sa.distinct(Flag.flagger_id)))
                             .where(Flag.post_id == post.id, Flag.resolved_at.is_(None)))
