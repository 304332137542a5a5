"""The review queue's sources: flags, hides by flags and holds, heard on the activity spine."""
from ..events import Verb, listens_to
from ..notifications.subscribers import notify_moderators
from . import queue
from .models import ReviewReason


def _reasons_of(verb, payload):
    if verb == Verb.POST_FLAGGED:
        return [ReviewReason.FLAGGED.value]
    if verb == Verb.POST_HIDDEN:
        return [ReviewReason.HIDDEN_BY_FLAGS.value]
    return list(payload.reasons)


@listens_to(Verb.POST_FLAGGED, Verb.POST_HIDDEN, Verb.POST_HELD)
def post_needs_review(verb, activity, payload, obj, **extra):
    """One open item per post however many flags it gets; the moderators hear of the item once."""
    if verb == Verb.POST_HIDDEN and payload.by_moderator:
        return  # a moderator's own decision, not something to decide
    post = obj
    terms = payload.terms if verb == Verb.POST_HELD else ()
    item, created = queue.enqueue_post(post, _reasons_of(verb, payload), terms=terms, now=activity.occurred_at)
    if created:
        notify_moderators("review_needed", activity, post.topic,
                          {"item_id": item.id, "number": post.number, "reasons": item.reasons},
                          leave_out=(post.author_id,))


@listens_to(Verb.POST_DELETED)
def post_deleted(verb, activity, obj, **extra):
    queue.close_items_of_deleted(obj, activity.actor_id, activity.occurred_at)
