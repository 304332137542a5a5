"""Members flag posts; enough flags hide a post until a moderator looks.

"Enough" is weighed, not counted: each flag weighs its flagger's record
(flag_weight), so a member whose flags moderators keep rejecting cannot hide
posts alone, while a new member's first flag counts in full.
"""
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
from .models import Flag, FlagOutcome, FlagReason
from .posts import get_post

TEXT_MAX = 500
# A flagger whose every flag was rejected still counts this much: they may be right this time.
MIN_FLAG_WEIGHT = 0.25


def flag_post(flagger, post_id, reason, text="", *, now=None):
    """One flag per member and post, weighing the flagger's record; open flags weighing FLAGS_TO_HIDE hide
    the post."""
    ensure(flagger, Permission.FLAG)
    now = now or utcnow()
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
                                       "text": text, "weight": flag_weight(flagger),
                                       "created_at": now}, key=("post_id", "flagger_id")):
        raise Conflict("already_flagged", _("You have already flagged this post."))
    flag = db.session.scalar(sa.select(Flag).where(Flag.post_id == post.id, Flag.flagger_id == flagger.id))
    record_activity(Verb.POST_FLAGGED, actor=flagger, obj=post, occurred_at=now,
                    payload=PostFlagged(topic_id=post.topic_id, reason=reason.value, flag_id=flag.id,
                                        author_id=post.author_id))
    if post.hidden_at is None and _open_weight(post) >= current_app.config["FLAGS_TO_HIDE"]:
        post.hidden_at = now
        record_activity(Verb.POST_HIDDEN, actor=None, obj=post, occurred_at=now,
                        payload=PostHidden(topic_id=post.topic_id, author_id=post.author_id))
    db.session.commit()
    return flag


def flag_weight(flagger):
    """How much `flagger`'s next flag counts, from 1 (no rejected flags) down to MIN_FLAG_WEIGHT: one plus
    the flags moderators agreed with, over one plus every flag they decided. Agreed flags earn weight back."""
    decided = dict(db.session.execute(
        sa.select(Flag.outcome, sa.func.count()).where(Flag.flagger_id == flagger.id, Flag.outcome.is_not(None))
        .group_by(Flag.outcome)).all())
    agreed, disagreed = decided.get(FlagOutcome.AGREED, 0), decided.get(FlagOutcome.DISAGREED, 0)
    return max(MIN_FLAG_WEIGHT, (1 + agreed) / (1 + agreed + disagreed))


def _open_weight(post):
    # Rounded: three flags of 1/3 make one, not 0.999….
    total = db.session.scalar(sa.select(sa.func.coalesce(sa.func.sum(Flag.weight), 0))
                              .where(Flag.post_id == post.id, Flag.resolved_at.is_(None)))
    return round(float(total), 6)
