"""Posts over the API: reply, edit, delete, history, votes, flags and official answers."""
from datetime import datetime

from flask import jsonify
from flask_login import current_user
from pydantic import BaseModel, ConfigDict, Field, StrictInt

from ..community import flags, official, posts, votes
from ..community.models import FlagReason
from ..permissions import Permission, require, require_login
from . import bp
from .community import (
    PAGE_QUERY,
    AuthorOut,
    Id,
    ListPage,
    PageArgs,
    PageOut,
    PostOut,
    may_see_source,
    page_of,
    post_out,
)
from .spec import documented, dump, parse, parse_query


class ReplyIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    body: str = Field(description="Markdown.")
    reply_to_id: Id | None = Field(default=None, description="The post of the same topic this one quotes.")


class EditIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    body: str = Field(description="Markdown.")
    title: str | None = Field(default=None, description="A new topic title; first posts only.")


class VoteIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    value: StrictInt = Field(description="1 (up) or -1 (down); an idea's first post takes only 1.")


class FlagIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: str = Field(description="spam, abusive, off_topic or other (other needs text)", max_length=20)
    text: str = ""


class FlagOut(BaseModel):
    id: int
    post_id: int
    reason: FlagReason
    created_at: datetime


class RevisionOut(BaseModel):
    number: int
    editor: AuthorOut
    title: str | None = Field(description="The topic title before the edit (first posts only).")
    source: str | None = Field(description="The text before the edit; null unless you wrote the post or moderate.")
    created_at: datetime


class RevisionPage(PageOut):
    items: list[RevisionOut]


@bp.post("/topics/<int:topic_id>/posts")
@require(Permission.POST)
@documented("Reply to a topic", body=ReplyIn, response=PostOut, status=201, tag="community",
            errors=(400, 401, 403, 404, 409, 415, 422, 429))
def create_post(topic_id):
    data = parse(ReplyIn)
    post = posts.reply(current_user, topic_id, data.body, reply_to_id=data.reply_to_id)
    return jsonify(post_out(post, current_user)), 201


@bp.patch("/posts/<int:post_id>")
@require_login
@documented("Edit your post (moderators: any post); the old text is kept as a revision", body=EditIn,
            response=PostOut, tag="community", errors=(400, 401, 403, 404, 409, 415, 422))
def edit_post(post_id):
    data = parse(EditIn)
    return jsonify(post_out(posts.edit_post(current_user, post_id, data.body, title=data.title), current_user))


@bp.delete("/posts/<int:post_id>")
@require_login
@documented("Delete your post (moderators: any post); a first post deletes its topic", response=PostOut,
            tag="community", errors=(401, 403, 404))
def delete_post(post_id):
    return jsonify(post_out(posts.delete_post(current_user, post_id), current_user))


@bp.get("/posts/<int:post_id>/revisions")
@documented("A post's earlier versions, newest first", response=RevisionPage, auth=False, tag="community",
            query=PAGE_QUERY, errors=(404, 422))
def post_revisions(post_id):
    args = parse_query(PageArgs)
    post, history = posts.revisions(current_user, post_id)
    show_source = may_see_source(current_user, post)
    items = [{**dump(RevisionOut, revision), "source": revision.source if show_source else None}
             for revision in history]
    page = ListPage.of(items, args)
    return jsonify(page_of(page.items, page))


@bp.post("/posts/<int:post_id>/vote")
@require(Permission.VOTE)
@documented("Vote a post up or down, or change your vote", body=VoteIn, response=PostOut, tag="community",
            errors=(400, 401, 403, 404, 415, 422))
def vote(post_id):
    data = parse(VoteIn)
    return jsonify(post_out(votes.cast(current_user, post_id, data.value), current_user))


@bp.delete("/posts/<int:post_id>/vote")
@require(Permission.VOTE)
@documented("Take back your vote", response=PostOut, tag="community", errors=(401, 403, 404))
def retract_vote(post_id):
    return jsonify(post_out(votes.retract(current_user, post_id), current_user))


@bp.post("/posts/<int:post_id>/official")
@require(Permission.MODERATE)
@documented("Mark a staff answer as its question's official answer (moderators and admins); "
            "any other official answer loses the mark", response=PostOut, tag="community",
            errors=(401, 403, 404, 409, 422))
def mark_official(post_id):
    return jsonify(post_out(official.mark_official(current_user, post_id), current_user))


@bp.delete("/posts/<int:post_id>/official")
@require(Permission.MODERATE)
@documented("Take the official mark off an answer (moderators and admins)", response=PostOut, tag="community",
            errors=(401, 403, 404, 409))
def unmark_official(post_id):
    return jsonify(post_out(official.unmark_official(current_user, post_id), current_user))


@bp.post("/posts/<int:post_id>/flags")
@require(Permission.FLAG)
@documented("Flag a post for the moderators", body=FlagIn, response=FlagOut, status=201, tag="community",
            errors=(400, 401, 403, 404, 409, 415, 422))
def flag_post(post_id):
    data = parse(FlagIn)
    return jsonify(dump(FlagOut, flags.flag_post(current_user, post_id, data.reason, data.text))), 201
