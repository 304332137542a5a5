"""Linked accounts: staff mark two accounts as one person's, and undo what they voted for each other."""
import sqlalchemy as sa
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import joinedload

from ..audit import audit
from ..auth.models import User, UserStatus
from ..community.models import Post, Vote
from ..errors import Conflict, Invalid, NotFound
from ..events import Verb, record_activity
from ..extensions import db
from ..idempotency import insert_unless_exists
from ..payloads import AccountsLinked
from ..permissions import Permission, ensure
from ..sqltypes import utcnow
from .models import AccountLink

REASON_MAX = 500


def _pair(a_id, b_id):
    return (a_id, b_id) if a_id < b_id else (b_id, a_id)


def are_linked(a_id, b_id):
    """Whether staff marked these two accounts as linked."""
    if a_id is None or b_id is None or a_id == b_id:
        return False
    first, second = _pair(a_id, b_id)
    return db.session.scalar(sa.select(sa.exists().where(AccountLink.user_a_id == first,
                                                          AccountLink.user_b_id == second)))


def find_account(handle):
    """An account by email or @username, for the staff forms; Invalid when there is none."""
    handle = (handle or "").strip().lstrip("@").lower()
    column = sa.func.lower(User.email) if "@" in handle else sa.func.lower(User.username)
    user = db.session.scalar(sa.select(User).where(column == handle, User.status != UserStatus.DELETED)) \
        if handle else None
    if user is None:
        raise NotFound("account_not_found", _("No account has that email or username."))
    return user


def link_accounts(moderator, first_id, second_id, reason=""):
    """Mark two accounts as linked (audited); votes between them earn nothing from now on. Committed."""
    ensure(moderator, Permission.MODERATE)
    reason = (reason or "").strip()
    if len(reason) > REASON_MAX:
        raise Invalid(fields={"reason": _l("Keep the reason to %(n)d characters.", n=REASON_MAX)})
    if first_id == second_id:
        raise Invalid("same_account", _("Choose two different accounts."))
    first, second = (db.session.get(User, user_id) for user_id in _pair(first_id, second_id))
    if first is None or second is None:
        raise NotFound("account_not_found", _("No account has that email or username."))
    if not insert_unless_exists(AccountLink, {"user_a_id": first.id, "user_b_id": second.id, "reason": reason,
                                              "created_by_id": moderator.id, "created_at": utcnow()},
                                key=("user_a_id", "user_b_id")):
        raise Conflict("already_linked", _("These accounts are already linked."))
    link = db.session.scalar(sa.select(AccountLink).where(AccountLink.user_a_id == first.id,
                                                          AccountLink.user_b_id == second.id))
    audit(moderator, "accounts.linked", first, other_id=second.id, reason=reason)
    record_activity(Verb.ACCOUNTS_LINKED, actor=moderator, obj=link,
                    payload=AccountsLinked(user_ids=[first.id, second.id]), customer_id=first.customer_id)
    db.session.commit()
    return link


def get_link(link_id):
    link = db.session.get(AccountLink, link_id)
    if link is None:
        raise NotFound()
    return link


def unlink_accounts(moderator, link_id):
    """Remove a link (audited); votes already reversed stay reversed. Committed."""
    ensure(moderator, Permission.MODERATE)
    link = get_link(link_id)
    audit(moderator, "accounts.unlinked", link.user_a, other_id=link.user_b_id)
    db.session.delete(link)
    db.session.commit()


def linked_accounts():
    """select() of every link, newest first, with both accounts and who linked them."""
    return (sa.select(AccountLink)
            .options(joinedload(AccountLink.user_a), joinedload(AccountLink.user_b),
                     joinedload(AccountLink.created_by))
            .order_by(AccountLink.created_at.desc(), AccountLink.id.desc()))


def votes_between_pairs(page_of_links):
    """{link id: votes either account has on the other's posts now}, in one query."""
    if not page_of_links:
        return {}
    conditions = [sa.or_(sa.and_(Vote.voter_id == link.user_a_id, Post.author_id == link.user_b_id),
                         sa.and_(Vote.voter_id == link.user_b_id, Post.author_id == link.user_a_id))
                  for link in page_of_links]
    link_of = sa.case(*[(condition, link.id) for condition, link in zip(conditions, page_of_links, strict=True)])
    rows = db.session.execute(sa.select(link_of, sa.func.count()).select_from(Vote)
                              .join(Post, Post.id == Vote.post_id).where(sa.or_(*conditions))
                              .group_by(link_of)).all()
    return dict(rows)
