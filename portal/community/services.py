"""Community reads shared by views and the API."""
import sqlalchemy as sa

from ..auth.models import User, UserStatus
from ..extensions import db
from .access import readable_categories
from .models import Category


def search_directory(user, text, limit=20):
    """Categories `user` may read and active members whose name (or description) contains `text`.

    A plain substring match until the full-text index arrives.
    """
    escaped = text.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    like = f"%{escaped}%"
    categories = db.session.scalars(
        readable_categories(user)
        .where(sa.or_(sa.func.lower(Category.name).like(like, escape="\\"),
                      sa.func.lower(Category.description).like(like, escape="\\")))
        .limit(limit)
    ).all()
    members = db.session.scalars(
        sa.select(User)
        .where(User.status == UserStatus.ACTIVE, sa.func.lower(User.name).like(like, escape="\\"))
        .order_by(User.points.desc()).limit(limit)
    ).all()
    return categories, members
