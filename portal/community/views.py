"""The community's front page."""
import sqlalchemy as sa
from flask import Blueprint, render_template, request

from ..auth.models import User, UserStatus
from ..extensions import db
from ..permissions import Role
from .models import Category
from .services import search_directory

bp = Blueprint("community", __name__)


@bp.get("/")
def home():
    categories = db.session.scalars(sa.select(Category).order_by(Category.position, Category.name)).all()
    active_members = sa.select(User).where(User.status == UserStatus.ACTIVE, User.role == Role.MEMBER)
    top_members = db.session.scalars(active_members.order_by(User.points.desc(), User.id).limit(6)).all()
    member_count = db.session.scalar(sa.select(sa.func.count()).select_from(active_members.subquery()))
    return render_template("community/home.html", categories=categories, top_members=top_members,
                           member_count=member_count)


@bp.get("/search")
def search():
    q = request.args.get("q", "").strip()[:200]
    categories, members = (search_directory(q) if q else ([], []))
    return render_template("community/search.html", q=q, categories=categories, members=members)
