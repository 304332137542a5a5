"""Staff mark a post as a lead, with a note: the strongest signal, since a person read it."""
from flask_babel import lazy_gettext as _l

from ..audit import audit
from ..auth.models import User
from ..community.models import Post
from ..errors import Conflict, Invalid, NotFound
from ..extensions import db
from ..permissions import Permission, Role, ensure
from ..sqltypes import utcnow
from .models import LeadSignal, SignalKind
from .scoring import add_signal

NOTE_MAX = 1000


def flag_post_as_lead(actor, post_id, note, *, now=None):
    """Record a staff flag on a member's post (a signal that, at its default weight, makes a lead); committed.

    Returns the lead it made or raised, or None when an admin weighted staff
    flags below the threshold. A post is flagged as a lead once.
    """
    ensure(actor, Permission.FLAG_LEADS)
    now = now or utcnow()
    note = " ".join((note or "").split()) if isinstance(note, str) else ""
    if not note or len(note) > NOTE_MAX:
        raise Invalid("invalid_note", fields={"note": _l("Say in up to %(n)d characters why this is a lead.",
                                                          n=NOTE_MAX)})
    post = db.session.get(Post, post_id) if isinstance(post_id, int) else None
    if post is None or post.deleted_at is not None:
        raise NotFound("post_not_found", _l("That post does not exist."))
    author = db.session.get(User, post.author_id)
    if author is None or author.role != Role.MEMBER:
        raise Conflict("not_a_member_post", _l("Only a member's post can be a lead."))
    if db.session.query(LeadSignal.id).filter_by(kind=SignalKind.STAFF_FLAG, post_id=post.id).first():
        raise Conflict("already_flagged", _l("This post is already flagged as a lead."))
    lead = add_signal(SignalKind.STAFF_FLAG, customer_id=author.customer_id, member_id=author.id, occurred_at=now,
                      topic_id=post.topic_id, post_id=post.id, detail={"note": note}, flagged_by_id=actor.id, now=now)
    audit(actor, "lead.post_flagged", post, now=now, note=note, lead_id=lead.id if lead else None)
    db.session.commit()
    return lead
