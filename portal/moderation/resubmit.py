"""An author's edit as a second chance, and as a second look: heard on the activity spine (POST_EDITED).

An author who edits their hidden or held post sends it back to the queue
(RESUBMITTED): it stays out of sight until a moderator approves it, and a
decided item (a moderator hid it) is reopened as a new one. A published post
edited to use a watched word it did not use before goes to the queue too
(EDITED_WATCHED_WORDS) but stays visible. A moderator's edit is neither, and
staff authors are never checked, as holds.hold_for never holds them.
"""
import sqlalchemy as sa

from ..community.models import PostRevision
from ..events import Verb, listens_to
from ..extensions import db
from ..notifications.subscribers import notify_moderators
from ..permissions import STAFF_ROLES
from . import queue
from .holds import hold_for
from .models import ReviewReason
from .rules import moderation_rules


@listens_to(Verb.POST_EDITED)
def post_edited(verb, activity, payload, obj, **extra):
    """Queue the author's edit when it needs a moderator, in the edit's transaction (nothing committed here)."""
    post = obj
    if activity.actor_id != post.author_id or post.author.role in STAFF_ROLES:
        return
    watched = moderation_rules().watched_terms
    if post.hidden_at is not None or post.held_at is not None:
        _resubmit(post, activity, payload.revision, watched)
    else:
        terms = watched.found_in(_text(post))
        if _introduced(terms, post, payload.revision, watched):
            _enqueue(post, activity, [ReviewReason.EDITED_WATCHED_WORDS.value], terms)


def _resubmit(post, activity, revision, watched):
    """Back to the moderators with what the new text uses; the post stays hidden or held until one approves."""
    reasons = [ReviewReason.RESUBMITTED.value]
    if post.held_at is not None:  # still unpublished: the holds that apply to the new text, links included
        hold = hold_for(post.author, post.source, title=_title(post))
        reasons += hold.reasons
        terms = hold.terms
    else:
        terms = watched.found_in(_text(post))
        if _introduced(terms, post, revision, watched):
            reasons.append(ReviewReason.EDITED_WATCHED_WORDS.value)
    _enqueue(post, activity, reasons, terms)


def _enqueue(post, activity, reasons, terms):
    item, created = queue.enqueue_post(post, reasons, terms=terms, now=activity.occurred_at)
    # The terms describe the text as it reads now: words the edit took out are no longer the moderator's concern.
    if item.terms != list(terms):
        item.terms = list(terms)
    if created:
        notify_moderators("review_needed", activity, post.topic,
                          {"item_id": item.id, "number": post.number, "reasons": item.reasons},
                          leave_out=(post.author_id,))


def _introduced(terms, post, revision, watched):
    """Whether `terms` (what the post uses now) include one the text before this edit did not use."""
    if not terms:
        return False
    before = db.session.scalar(sa.select(PostRevision).where(PostRevision.post_id == post.id,
                                                             PostRevision.number == revision))
    if before is None:
        return True
    text = f"{before.title or ''}\n{before.source}" if post.number == 1 else before.source
    used = set(watched.found_in(text))
    return any(term not in used for term in terms)


def _title(post):
    return post.topic.title if post.number == 1 else ""


def _text(post):
    return f"{_title(post)}\n{post.source}"
