"""Small factories for community tests."""
from datetime import UTC, datetime

from portal.community import posts, topics
from portal.community.models import Access, Category
from portal.extensions import db
from portal.levels import level_for
from portal.permissions import Role
from portal.rewards.models import PointsEntry

LONG_AGO = datetime(2024, 1, 1, tzinfo=UTC)


def make_category(name="Questions", slug=None, **fields):
    category = Category(name=name, slug=slug or name.lower().replace(" ", "-"), **fields)
    db.session.add(category)
    db.session.commit()
    return category


def staff_only_category():
    return make_category("Staff room", read_access=Access.STAFF, write_access=Access.STAFF)


def announcements_category():
    return make_category("Announcements", write_access=Access.STAFF)


def established(make_user, role=Role.MEMBER, **fields):
    """A member past the new-account limits."""
    return make_user(role, created_at=LONG_AGO, **fields)


def with_points(user, points):
    """Put `points` on a member's ledger as an opening balance (no level-up notice), so they hold a level."""
    db.session.add(PointsEntry(user_id=user.id, delta=points, rule="opening_balance"))
    user.points += points
    user.level_number = user.level_reached = level_for(user.points).number
    db.session.commit()
    return user


def trusted(make_user, role=Role.MEMBER, points=60, **fields):
    """An established member at the Member level: may flag and post links."""
    return with_points(established(make_user, role, **fields), points)


def ask(author, category, title="How do I export a dashboard?", body="I need a PDF every Monday.", **kw):
    return topics.create_topic(author, category_id=category.id, kind=kw.pop("kind", "question"), title=title,
                               body=body, **kw)


def answer(author, topic, body="Use Share → Schedule export.", **kw):
    return posts.reply(author, topic.id, body, **kw)
