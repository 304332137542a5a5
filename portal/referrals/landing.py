"""What a share link's landing page shows: who invites, and why the community is worth joining."""
from dataclasses import dataclass

import sqlalchemy as sa

from ..auth.models import User, UserStatus
from ..community.access import visible_topics
from ..extensions import db
from ..permissions import Role
from .codes import referrer_for_code


@dataclass(frozen=True)
class Landing:
    referrer: User
    own_link: bool        # the signed-in viewer opened their own link
    already_member: bool  # someone else signed in: nothing to attribute
    members: int
    topics: int
    solved: int


def landing(code, viewer):
    """The landing page of `code` for `viewer`; NotFound when no active member owns it. Two queries, no writes."""
    referrer = referrer_for_code(code)
    signed_in = getattr(viewer, "is_authenticated", False)
    public = visible_topics(None).subquery()
    members = (sa.select(sa.func.count()).select_from(User)
               .where(User.role == Role.MEMBER, User.status == UserStatus.ACTIVE).scalar_subquery())
    row = db.session.execute(sa.select(members, sa.func.count(),
                                       sa.func.count(public.c.solved_post_id)).select_from(public)).one()
    return Landing(referrer=referrer, own_link=signed_in and viewer.id == referrer.id,
                   already_member=signed_in and viewer.id != referrer.id,
                   members=row[0], topics=row[1], solved=row[2])
