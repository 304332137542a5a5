"""The review queue over the API, for moderators: the open items oldest first, and deciding one.

The same services as the queue page decide everything: an item someone
already decided is 409 already_decided (naming who), an unknown decision or a
detail it does not use is 422, and anyone without the MODERATE permission gets 403.
"""
from datetime import datetime
from typing import Literal

from flask import jsonify
from flask_login import current_user
from pydantic import BaseModel, ConfigDict, Field

from ..moderation import decisions, queue
from ..permissions import Permission, require
from . import bp
from .community import PAGE_QUERY, PageArgs, PageOut
from .spec import documented, dump, parse, parse_query


class PersonOut(BaseModel):
    id: int
    name: str


class FlagOut(BaseModel):
    id: int
    flagger: PersonOut
    reason: str = Field(description="spam, abusive, off_topic or other.")
    text: str
    created_at: datetime
    resolved_at: datetime | None
    outcome: str | None = Field(description="agreed or disagreed, once a moderator decided the post.")


class ReviewPostOut(BaseModel):
    id: int
    topic_id: int
    topic_title: str
    number: int
    author: PersonOut
    html: str
    created_at: datetime
    hidden_at: datetime | None
    held_at: datetime | None = Field(description="Set while the post waits for approval before publication.")
    reply_to_id: int | None


class ReviewItemOut(BaseModel):
    id: int
    status: str = Field(description="open, approved, hidden, deleted, changed (kept after an edit, lock, move, "
                                    "merge or split) or post_deleted (by its author first).")
    reasons: list[str] = Field(description="flagged, hidden_by_flags, held_new_account, held_links, "
                                           "held_watched_words, resubmitted, edited_watched_words.")
    terms: list[str] = Field(description="The watched words a held post uses.")
    created_at: datetime
    decision: str | None = Field(description="The decision taken (DecisionIn's), once decided.")
    decided_by: PersonOut | None
    decided_at: datetime | None
    note: str
    post: ReviewPostOut
    flags: list[FlagOut] = Field(description="Every flag on the post, oldest first (only in the list).")


class ReviewPageOut(PageOut):
    items: list[ReviewItemOut]


class DecisionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    decision: Literal["approve", "hide", "delete", "edit", "lock", "move", "merge", "split", "warn", "silence",
                      "suspend"]
    note: str = Field(default="", max_length=decisions.NOTE_MAX)
    reason: str | None = Field(default=None, description="warn, silence, suspend: shown to the author (required, "
                                                           "at most 1,000 characters).")
    until: datetime | None = Field(default=None, description="silence (required), suspend (none: for good): "
                                                              "the end, in the future; UTC when no offset is given.")
    body: str | None = Field(default=None, description="edit: the post's new Markdown text (required).")
    title: str | None = Field(default=None, description="edit: the topic's new title (opening posts only); "
                                                         "split: the new topic's title (required).")
    category_id: int | None = Field(default=None, description="move: the category to move the topic to; "
                                                               "split: the new topic's (default: this one's).")
    into_topic_id: int | None = Field(default=None, description="merge: the topic that receives every post.")
    post_numbers: list[int] | None = Field(default=None, max_length=decisions.NUMBERS_MAX,
                                           description="split: the replies to move with this post, by number.")


def _person(user):
    return {"id": user.id, "name": user.name} if user is not None else None


def item_out(item, flags=()):
    post = item.post
    return dump(ReviewItemOut, {
        "id": item.id, "status": str(item.status), "reasons": item.reasons, "terms": item.terms,
        "created_at": item.created_at, "decision": item.decision, "decided_by": _person(item.decided_by),
        "decided_at": item.decided_at, "note": item.note,
        "post": {"id": post.id, "topic_id": post.topic_id, "topic_title": post.topic.title, "number": post.number,
                 "author": _person(post.author), "html": post.html, "created_at": post.created_at,
                 "hidden_at": post.hidden_at, "held_at": post.held_at, "reply_to_id": post.reply_to_id},
        "flags": [{"id": flag.id, "flagger": _person(flagger), "reason": str(flag.reason), "text": flag.text,
                   "created_at": flag.created_at, "resolved_at": flag.resolved_at,
                   "outcome": str(flag.outcome) if flag.outcome else None} for flag, flagger in flags],
    })


@bp.get("/moderation/queue")
@require(Permission.MODERATE)
@documented("The review queue: posts waiting for a moderator's decision (flagged, hidden by flags, held before "
            "publication), oldest first, with every flag", response=ReviewPageOut, tag="moderation",
            query=PAGE_QUERY, errors=(401, 403, 422))
def review_queue():
    args = parse_query(PageArgs)
    pagination, entries = queue.queue_page(current_user, page=args.page, per_page=args.per_page or queue.PER_PAGE)
    return jsonify({"items": [item_out(entry.item, entry.flags) for entry in entries], "page": pagination.page,
                    "per_page": pagination.per_page, "total": pagination.total})


@bp.post("/moderation/queue/<int:item_id>/decision")
@require(Permission.MODERATE)
@documented("Decide a queue item: approve (rejects the flags, shows a hidden post, publishes a held one), hide, "
            "delete; edit the post, lock or move its topic, merge its topic into another or split replies into a "
            "new topic (each keeps the post: shown again, published if held); or warn, silence or suspend the "
            "post's author with a reason (and until), which hides the post too. Every decision but approve agrees "
            "with the flags and tells the flaggers. "
            "409 already_decided when another moderator got there first (or post_deleted), 422 for another "
            "decision", body=DecisionIn, response=ReviewItemOut, tag="moderation",
            errors=(401, 403, 404, 409, 415, 422))
def decide_review_item(item_id):
    data = parse(DecisionIn)
    details = data.model_dump(exclude_none=True, exclude={"decision", "note"})
    item = decisions.decide(current_user, item_id, data.decision, data.note, **details)
    return jsonify(item_out(queue.get_item(current_user, item.id)))
