"""The community over the API: its JSON shapes, and categories, tags and follows.

Topics live in `topics.py`, posts (replies, edits, votes, flags) in `posts.py`;
both answer with the shapes defined here.

Markdown `source` is shown only to the post's author and to moderators, the
people who may edit it. Everyone else reads the sanitized `html`: a new
account's links are kept out of its HTML, and the source would hand them out.
"""
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated

from flask import jsonify
from flask_login import current_user
from pydantic import AliasChoices, BaseModel, ConfigDict, Field, field_validator

from ..community import follows, topics
from ..community.access import is_moderator, readable_categories
from ..community.models import Access, IdeaStatus, TopicKind
from ..extensions import db
from ..permissions import require_login
from ..sqltypes import MAX_ID
from . import bp
from .spec import documented, dump, page_out, parse, parse_query

PAGE_QUERY = {"page": "integer", "per_page": "integer"}
Id = Annotated[int, Field(ge=1, le=MAX_ID)]


# -- request helpers -------------------------------------------------------------------

class PageArgs(BaseModel):
    page: int = Field(default=1, ge=1, le=1_000_000)
    per_page: int | None = Field(default=None, ge=1, le=100)


@dataclass
class ListPage:
    """A page cut from a list a service returned whole, shaped like a Flask-SQLAlchemy page."""
    items: list
    page: int
    per_page: int
    total: int

    @classmethod
    def of(cls, rows, args, default_per_page=30):
        per_page = args.per_page or default_per_page
        start = (args.page - 1) * per_page
        return cls(items=list(rows[start:start + per_page]), page=args.page, per_page=per_page, total=len(rows))


# -- response shapes -------------------------------------------------------------------

class PageOut(BaseModel):
    """The list shape every collection answers with; subclasses add typed `items`."""
    page: int
    per_page: int
    total: int


class AuthorOut(BaseModel):
    id: int
    name: str
    username: str
    level: str = Field(description="The author's level key, e.g. newcomer, regular.")
    staff: bool = Field(validation_alias=AliasChoices("staff", "is_community_staff"),
                        description="Community staff (moderators, admins), shown with a staff flair; "
                                    "never true for sales.")

    @field_validator("level", mode="before")
    @classmethod
    def _level_key(cls, level):
        return getattr(level, "key", level)


class CategoryOut(BaseModel):
    id: int
    name: str
    slug: str
    description: str
    colour: str
    read_access: Access
    write_access: Access


class CategoryPage(PageOut):
    items: list[CategoryOut]


class TopicOut(BaseModel):
    id: int
    category_id: int
    kind: TopicKind
    title: str
    author: AuthorOut
    tags: list[str]
    reply_count: int
    score: int
    solved_post_id: int | None
    official_post_id: int | None = Field(description="The staff answer marked official (questions only).")
    idea_status: IdeaStatus | None
    pinned: bool
    locked: bool
    duplicate_of_id: int | None
    created_at: datetime
    last_posted_at: datetime
    deleted_at: datetime | None = Field(description="Set on deleted topics, which only moderators see.")

    @field_validator("tags", mode="before")
    @classmethod
    def _tag_names(cls, tags):
        return [getattr(tag, "name", tag) for tag in tags]


class TopicPage(PageOut):
    items: list[TopicOut]


class PostOut(BaseModel):
    id: int
    topic_id: int
    number: int
    author: AuthorOut
    html: str = Field(description="Sanitized HTML rendered from the Markdown source.")
    source: str | None = Field(description="The Markdown source; null unless you wrote the post or moderate.")
    score: int
    official: bool = Field(validation_alias=AliasChoices("official", "is_official"),
                           description="Whether community staff marked this answer as the official one.")
    reply_to_id: int | None
    created_at: datetime
    edited_at: datetime | None
    revision_count: int
    deleted_at: datetime | None
    hidden_at: datetime | None = Field(description="Set while the post is hidden (by flags or a moderator); only "
                                                    "moderators and its author see it.")
    held_at: datetime | None = Field(default=None, description="Set while the post waits for a moderator before "
                                                               "publication; only its author and moderators see it.")


class PostPage(PageOut):
    items: list[PostOut]


class TopicDetailOut(TopicOut):
    posts: PostPage = Field(description="One page of posts in reading order (questions: accepted answer first, "
                                        "then the official answer, then by votes).")
    my_votes: dict[str, int] = Field(description="Your votes on this page's posts: {post id: 1 or -1}.")


def may_see_source(viewer, post):
    return getattr(viewer, "is_authenticated", False) and (viewer.id == post.author_id or is_moderator(viewer))


def post_out(post, viewer):
    out = dump(PostOut, post)
    if not may_see_source(viewer, post):
        out["source"] = None
    return out


def page_of(items, pagination):
    """page_out() for items already dumped (when a shape depends on the viewer)."""
    return {"items": items, "page": pagination.page, "per_page": pagination.per_page, "total": pagination.total}


def post_page(pagination, viewer):
    return page_of([post_out(post, viewer) for post in pagination.items], pagination)


def topic_out(topic):
    return dump(TopicOut, topic)


# -- categories ------------------------------------------------------------------------

@bp.get("/categories")
@documented("Categories you may read, in display order", response=CategoryPage, auth=False, tag="community",
            query=PAGE_QUERY, errors=(422,))
def list_categories():
    args = parse_query(PageArgs)
    pagination = db.paginate(readable_categories(current_user), page=args.page, per_page=args.per_page or 50,
                             max_per_page=100, error_out=False)
    return jsonify(page_out(CategoryOut, pagination))


# -- tags ------------------------------------------------------------------------------

class TagOut(BaseModel):
    name: str
    count: int = Field(description="Topics you can see that carry the tag.")


class TagPage(PageOut):
    items: list[TagOut]


@bp.get("/tags")
@documented("Tags of the topics you can see, most used first", response=TagPage, auth=False, tag="community",
            query=PAGE_QUERY, errors=(422,))
def list_tags():
    args = parse_query(PageArgs)
    rows = [{"name": name, "count": count} for name, count in topics.tag_counts(current_user, limit=None)]
    return jsonify(page_out(TagOut, ListPage.of(rows, args, default_per_page=50)))


# -- follows ---------------------------------------------------------------------------

class FollowIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    target_type: str = Field(description="topic, category or user", max_length=20)
    target_id: Id


class FollowOut(BaseModel):
    target_type: str
    target_id: int
    following: bool


@bp.post("/follows")
@require_login
@documented("Follow a topic, category or member (following twice changes nothing)", body=FollowIn,
            response=FollowOut, status=201, tag="community", errors=(400, 401, 404, 415, 422))
def follow():
    data = parse(FollowIn)
    follows.follow(current_user, data.target_type, data.target_id)
    return jsonify({"target_type": data.target_type, "target_id": data.target_id, "following": True}), 201


@bp.delete("/follows")
@require_login
@documented("Stop following: target_type and target_id in the query string", response=FollowOut,
            tag="community", query={"target_type": "string", "target_id": "integer"}, errors=(401, 404, 422))
def unfollow():
    data = parse_query(FollowIn)
    follows.unfollow(current_user, data.target_type, data.target_id)
    return jsonify({"target_type": data.target_type, "target_id": data.target_id, "following": False})
