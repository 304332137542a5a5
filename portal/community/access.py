"""Who may read and write where: category access, applied to every query."""
import sqlalchemy as sa

from ..auth.models import User, UserStatus
from ..permissions import STAFF_ROLES, Permission, Role, can
from ..sqltypes import utcnow
from .models import Access, Category, Post, Topic


def _reach(user):
    """The widest Access level `user` meets: STAFF, MEMBERS or EVERYONE."""
    if getattr(user, "is_authenticated", False) and user.is_active:
        return Access.STAFF if user.is_staff else Access.MEMBERS
    return Access.EVERYONE


_ORDER = {Access.EVERYONE: 0, Access.MEMBERS: 1, Access.STAFF: 2}


def readable_levels(user):
    reach = _ORDER[_reach(user)]
    return [access for access, rank in _ORDER.items() if rank <= reach]


def can_read(user, category):
    return category.read_access in readable_levels(user)


def can_write(user, category):
    return can(user, Permission.POST) and category.write_access in readable_levels(user) and can_read(user, category)


def is_moderator(user):
    return can(user, Permission.MODERATE)


def readers_among(user_ids, category):
    """select() of the ids among `user_ids` of active users who may read `category`."""
    query = sa.select(User.id).where(User.id.in_(user_ids), User.status == UserStatus.ACTIVE)
    if category.read_access == Access.STAFF:
        query = query.where(User.role.in_(STAFF_ROLES))
    return query


def readable_categories(user):
    """select() of the categories `user` may read, in display order."""
    return (sa.select(Category).where(Category.read_access.in_(readable_levels(user)))
            .order_by(Category.position, Category.name))


def _own(user, author_column):
    """Rows `user` wrote, for what only authors and moderators see (held posts)."""
    if not getattr(user, "is_authenticated", False):
        return sa.false()
    return author_column == user.id


def may_see_held(user, author_id):
    """Whether `user` sees a post or topic held for review: its author and moderators."""
    return is_moderator(user) or (getattr(user, "is_authenticated", False) and user.id == author_id)


def may_see_hidden(user, author_id):
    """Whether `user` sees a hidden post: moderators, and its author, who may edit it for another look
    (portal/moderation/resubmit.py)."""
    return may_see_held(user, author_id)


def visible_topics(user):
    """select() of topics `user` may see listed: readable category, not deleted, not held for someone else."""
    query = (sa.select(Topic).join(Topic.category)
             .where(Category.read_access.in_(readable_levels(user)), Topic.deleted_at.is_(None)))
    if not is_moderator(user):
        query = query.where(sa.or_(Topic.held_at.is_(None), _own(user, Topic.author_id)))
    return query


def visible_posts_clause(user):
    """Posts a reader sees: not deleted; not hidden and not held (except by its author) unless a moderator looks."""
    clause = Post.deleted_at.is_(None)
    if not is_moderator(user):
        clause = sa.and_(clause, sa.or_(sa.and_(Post.hidden_at.is_(None), Post.held_at.is_(None)),
                                        _own(user, Post.author_id)))
    return clause


def reader_kind(user):
    """The part of a cached page's key that names whom the page is for: every visitor, or the signed-in members
    who read as far and are at the same level, so may do the same (`user` among them); None when `user`'s pages
    are their own: staff, whose pages carry staff tools, and a silenced member, whose page says why.

    What a level may do is in the reward settings; saving them clears the cache (rewards.rule_settings)."""
    if not getattr(user, "is_authenticated", False):
        return "visitor"
    if Role(user.role) != Role.MEMBER or user.silenced_at(utcnow()) or not user.is_active:
        return None
    return f"member:{readable_levels(user)[-1]}:L{user.level_number}"
