"""Staff notes on members: what moderators and admins tell each other about a member.

Notes are staff data: only community staff (the MODERATE permission) write
or read them, and nothing a member can reach (their profile, account pages,
the API's /me and member endpoints, notifications) ever loads them. Adding
one is audited; it records no activity, so it never reaches a timeline,
feed or webhook.
"""
from collections import defaultdict

import sqlalchemy as sa
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import joinedload

from ..audit import audit
from ..auth.models import User, UserStatus
from ..errors import Invalid, NotFound
from ..extensions import db
from ..permissions import Permission, ensure
from ..sqltypes import utcnow
from .models import MemberNote

NOTE_MAX = 2000


def add_member_note(staff, member_id, body, *, now=None):
    """Add a note on a member, written by `staff` (moderators and admins); audited. Committed.

    The body is required and at most NOTE_MAX characters (Invalid, 422, on
    the `body` field); a member that doesn't exist is NotFound (404).
    """
    ensure(staff, Permission.MODERATE)
    body = (body or "").strip()
    if not body:
        raise Invalid(fields={"body": _l("Write the note first.")})
    if len(body) > NOTE_MAX:
        raise Invalid(fields={"body": _l("Keep the note to %(n)d characters.", n=NOTE_MAX)})
    member = db.session.get(User, member_id)
    if member is None or member.status == UserStatus.DELETED:
        raise NotFound("member_not_found", _("That member does not exist."))
    note = MemberNote(member_id=member.id, author_id=staff.id, body=body, created_at=now or utcnow())
    db.session.add(note)
    db.session.flush()
    audit(staff, "member_note.added", member, now=note.created_at, note_id=note.id)
    db.session.commit()
    return note


def notes_for(viewer, member_ids):
    """{member id: their notes, newest first, authors loaded} for many members in one query.

    Community staff only (Forbidden otherwise); members without notes are
    left out of the answer.
    """
    ensure(viewer, Permission.MODERATE)
    ids = list(set(member_ids))
    if not ids:
        return {}
    notes = db.session.scalars(
        sa.select(MemberNote).where(MemberNote.member_id.in_(ids)).options(joinedload(MemberNote.author))
        .order_by(MemberNote.member_id, MemberNote.created_at.desc(), MemberNote.id.desc())
    ).all()
    by_member = defaultdict(list)
    for note in notes:
        by_member[note.member_id].append(note)
    return dict(by_member)


def notes_on(viewer, member_id):
    """One member's notes, newest first (see notes_for)."""
    return notes_for(viewer, [member_id]).get(member_id, [])
