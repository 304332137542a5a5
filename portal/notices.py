"""What every page tells a signed-in member: how many notifications wait, and a warning to acknowledge.

Read from the database, they cost two statements a page, the count the
heavier (each notification's topic must still be readable). So both are
cached per member, under two versions read in one statement:

- the member's notice version (NoticeVersion), which moves when a
  transaction that adds a notification for them, marks one read, or warns
  them or settles a warning commits. The rows move as that transaction's
  last writes, in the order of their member ids, so no two transactions wait
  on each other for them;
- the topic lists' version (community/lists.py), which moves with anything
  that changes which topics a reader may read.
"""
from dataclasses import dataclass

import flask
import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.orm import Mapped, mapped_column

from .auth.models import User
from .auth.sessions import NOT_READ, read_along, read_with_user
from .community import access, lists
from .community.models import CacheVersion
from .extensions import cache, db
from .idempotency import bump_counter
from .moderation.models import MemberSanction
from .moderation.sanctions import unacknowledged_warning_id
from .notifications.models import Notification
from .notifications.services import unread_count

_CHANGED = "notices_changed"


class NoticeVersion(db.Model):
    __tablename__ = "notice_versions"

    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    version: Mapped[int] = mapped_column(sa.BigInteger, default=0)


@dataclass(frozen=True)
class Notices:
    unread_notifications: int
    unacknowledged_warning_id: int | None


def notices_for(user):
    """The signed-in `user`'s Notices, from the cache when neither version moved (read once a request)."""
    if "notices" not in flask.g:
        flask.g.notices = _notices(user)
    return flask.g.notices


# Read with the session's user, so a member's page spends no statement of its own on it; for anyone else,
# with the list version, in one statement.
read_with_user("notice_version", sa.select(NoticeVersion.version).where(NoticeVersion.user_id == User.id)
               .scalar_subquery())
_VERSIONS = sa.select(
    sa.select(NoticeVersion.version).where(NoticeVersion.user_id == sa.bindparam("user_id")).scalar_subquery(),
    sa.select(CacheVersion.version).where(CacheVersion.name == lists.VERSION).scalar_subquery())


def _versions(user):
    version = read_along("notice_version", user)
    if version is NOT_READ:
        return db.session.execute(_VERSIONS, {"user_id": user.id}).one()
    return version, lists.list_version()


def _notices(user):
    version, list_version = _versions(user)
    key = (f"notices:{user.id}:v{version or 0}:l{list_version or 0}:{access.readable_levels(user)[-1]}"
           f"{int(access.is_moderator(user))}")
    found = cache.get(key)
    if found is None:
        found = Notices(unread_count(user), unacknowledged_warning_id(user))
        cache.set(key, found)
    return found


def member_changed(user_id, session=None):
    """Move `user_id`'s notice version when the current transaction commits (for bulk updates, which the
    ORM events below don't see)."""
    (session or db.session).info.setdefault(_CHANGED, set()).add(user_id)


@event.listens_for(Notification, "after_insert")
@event.listens_for(Notification, "after_update")
def _notification_written(mapper, connection, notification):
    member_changed(notification.user_id, sa.inspect(notification).session)


@event.listens_for(MemberSanction, "after_insert")
@event.listens_for(MemberSanction, "after_update")
def _sanction_written(mapper, connection, sanction):
    member_changed(sanction.member_id, sa.inspect(sanction).session)


def _bump_before_commit(session):
    session.flush()  # the ORM events above fire in the flush
    changed = session.info.pop(_CHANGED, None)
    if not changed:
        return
    for user_id in sorted(changed):  # one order for every transaction: none waits on another's
        bump_counter(session, NoticeVersion, {"user_id": user_id})


def _forget_after_rollback(session):
    session.info.pop(_CHANGED, None)


def init_app(app):
    for name, listener in (("before_commit", _bump_before_commit), ("after_rollback", _forget_after_rollback)):
        if not event.contains(db.session, name, listener):
            event.listen(db.session, name, listener)
