"""Topics over the API: list, start, read with their posts, moderate, accept answers."""

from typing import Annotated

from flask import jsonify
from flask_login import current_user
from pydantic import BaseModel, ConfigDict, Field, StrictBool, model_validator

from ..community import answers, ideas, posts, topics
from ..community.models import IdeaStatus
from ..inputs import parse_id
from ..permissions import Permission, require, require_login
from . import bp
from .community import (
    PAGE_QUERY,
    Id,
    PageArgs,
    TopicDetailOut,
    TopicOut,
    TopicPage,
    post_page,
    topic_out,
)
from .spec import documented, page_out, parse, parse_query


class TopicListArgs(PageArgs):
    category: str | None = Field(default=None, description="A category id, or its slug.")
    kind: str | None = None
    tag: str | None = None
    sort: str = "latest"
    period: str = "all"
    status: str | None = Field(default=None, description="An idea status.")


class TopicIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    category_id: Id
    kind: str = Field(description="discussion, question or idea", max_length=20)
    title: str
    body: str = Field(description="Markdown.")
    tags: list[str] = Field(default_factory=list)


class TopicPatchIn(BaseModel):
    """Changes to a topic; the fields you leave out (or send as null) stay as they are.

    The title and tags: the author, moderators and members whose level unlocks
    it. Closing as a duplicate: moderators and members whose level unlocks it.
    The rest: moderators.
    """
    model_config = ConfigDict(extra="forbid")
    title: str | None = Field(default=None, max_length=400)
    tags: list[Annotated[str, Field(max_length=60)]] | None = Field(default=None, max_length=20)
    pinned: StrictBool | None = None
    locked: StrictBool | None = None
    category_id: Id | None = Field(default=None, description="Move the topic to this category.")
    duplicate_of_id: Id | None = Field(default=None, description="Close the topic as a duplicate of this one.")
    reopen: StrictBool | None = Field(default=None, description="true reopens a topic closed as a duplicate.")
    idea_status: IdeaStatus | None = Field(default=None, description="Ideas only.")
    status_reply: str | None = Field(default=None, max_length=ideas.REPLY_MAX,
                                     description="The public reply that goes with idea_status.")

    @model_validator(mode="after")
    def _consistent(self):
        if self.status_reply is not None and self.idea_status is None:
            raise ValueError("status_reply goes with an idea_status")
        if self.reopen and self.duplicate_of_id is not None:
            raise ValueError("send either duplicate_of_id or reopen")
        return self


class AcceptIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    post_id: Id


@bp.get("/topics")
@documented("Topics you may read; visitors see public categories", response=TopicPage, auth=False,
            tag="community", errors=(404, 422),
            query={"category": "string", "kind": "string", "tag": "string", "sort": "string", "period": "string",
                   "status": "string", **PAGE_QUERY})
def list_topics():
    args = parse_query(TopicListArgs)
    category = None
    if args.category is not None:
        # Digits name a category by id, anything else by slug.
        category_id = parse_id(args.category)
        category = topics.get_category(current_user, category_id, slug=None if category_id else args.category)
    pagination = topics.topic_list(current_user, category=category, sort=args.sort, period=args.period,
                                   kind=args.kind, tag=args.tag, status=args.status, page=args.page,
                                   per_page=args.per_page)
    return jsonify(page_out(TopicOut, pagination))


@bp.post("/topics")
@require(Permission.POST)
@documented("Start a topic with its first post", body=TopicIn, response=TopicOut, status=201, tag="community",
            errors=(400, 401, 403, 404, 415, 422, 429))
def create_topic():
    data = parse(TopicIn)
    topic = topics.create_topic(current_user, category_id=data.category_id, kind=data.kind, title=data.title,
                                body=data.body, tags=data.tags)
    return jsonify(topic_out(topic)), 201


@bp.get("/topics/<int:topic_id>")
@documented("A topic with one page of its posts and your votes on them", response=TopicDetailOut, auth=False,
            tag="community", query=PAGE_QUERY, errors=(404, 422))
def show_topic(topic_id):
    args = parse_query(PageArgs)
    topic = topics.get_topic(current_user, topic_id)
    page = posts.topic_posts(current_user, topic, page=args.page, per_page=args.per_page)
    votes = posts.my_votes(current_user, [post.id for post in page.items])
    return jsonify({**topic_out(topic), "posts": post_page(page, current_user),
                    "my_votes": {str(post_id): value for post_id, value in votes.items()}})


@bp.patch("/topics/<int:topic_id>")
@require_login
@documented("Retitle, retag, close as duplicate, pin, lock, move, or set an idea's status", body=TopicPatchIn,
            response=TopicOut, tag="community", errors=(400, 401, 403, 404, 415, 422))
def update_topic(topic_id):
    changes = parse(TopicPatchIn).model_dump(exclude_none=True)
    if changes.pop("reopen", False):
        changes["duplicate_of_id"] = None
    return jsonify(topic_out(topics.change_topic(current_user, topic_id, **changes)))


@bp.post("/topics/<int:topic_id>/accept")
@require_login
@documented("Accept a reply as the answer to your question (or as a moderator)", body=AcceptIn,
            response=TopicOut, tag="community", errors=(400, 401, 403, 404, 415, 422))
def accept_answer(topic_id):
    data = parse(AcceptIn)
    return jsonify(topic_out(answers.accept(current_user, topic_id, data.post_id)))


@bp.delete("/topics/<int:topic_id>/accept")
@require_login
@documented("Take back the accepted answer", response=TopicOut, tag="community", errors=(401, 403, 404, 422))
def unaccept_answer(topic_id):
    return jsonify(topic_out(answers.unaccept(current_user, topic_id)))
