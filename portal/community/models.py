"""Categories, topics, posts and everything members do to them."""
import enum
from datetime import datetime

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from ..sqltypes import LabelledEnum, UTCDateTime, str_enum, utcnow


class Access(enum.StrEnum):
    """Who may read or write in a category."""
    EVERYONE = "everyone"
    MEMBERS = "members"
    STAFF = "staff"


class TopicKind(LabelledEnum):
    DISCUSSION = "discussion", _l("Discussion")
    QUESTION = "question", _l("Question")
    IDEA = "idea", _l("Idea")


class IdeaStatus(LabelledEnum):
    NEW = "new", _l("New")
    UNDER_REVIEW = "under_review", _l("Under review")
    PLANNED = "planned", _l("Planned")
    IN_PROGRESS = "in_progress", _l("In progress")
    DONE = "done", _l("Done")
    DECLINED = "declined", _l("Declined")


class FlagReason(LabelledEnum):
    SPAM = "spam", _l("Spam")
    ABUSIVE = "abusive", _l("Abusive or rude")
    OFF_TOPIC = "off_topic", _l("Off topic")
    OTHER = "other", _l("Something else")


class FlagOutcome(LabelledEnum):
    """What the moderator who decided a flagged post thought of each flag on it."""
    AGREED = "agreed", _l("The flag helped")
    DISAGREED = "disagreed", _l("The post was fine")


class FollowTarget(enum.StrEnum):
    TOPIC = "topic"
    CATEGORY = "category"
    USER = "user"


class Category(db.Model):
    __tablename__ = "categories"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(80))
    slug: Mapped[str] = mapped_column(sa.String(80), unique=True)
    description: Mapped[str] = mapped_column(sa.Text, default="")
    colour: Mapped[str] = mapped_column(sa.String(7), default="#0f766e")
    position: Mapped[int] = mapped_column(default=0)
    read_access: Mapped[Access] = mapped_column(str_enum(Access, name="read_access"), default=Access.EVERYONE,
                                                server_default=Access.EVERYONE.value)
    write_access: Mapped[Access] = mapped_column(str_enum(Access, name="write_access"), default=Access.MEMBERS,
                                                 server_default=Access.MEMBERS.value)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


topic_tags = sa.Table(
    "topic_tags",
    db.metadata,
    sa.Column("topic_id", sa.ForeignKey("topics.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("tag_id", sa.ForeignKey("tags.id", ondelete="CASCADE"), primary_key=True, index=True),
)


class Tag(db.Model):
    __tablename__ = "tags"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(30), unique=True)
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Topic(db.Model):
    __tablename__ = "topics"
    __table_args__ = (
        # One per order a topic list reads in (topics.list_query), each ending in id so the page is read
        # straight off the index, ties included.
        sa.Index("ix_topics_category_last", "category_id", "pinned", "last_posted_at", "id"),
        sa.Index("ix_topics_last_posted", "last_posted_at", "id"),
        sa.Index("ix_topics_score", "score", "last_posted_at", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    category_id: Mapped[int] = mapped_column(sa.ForeignKey("categories.id"))
    author_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), index=True)
    kind: Mapped[TopicKind] = mapped_column(str_enum(TopicKind), default=TopicKind.DISCUSSION)
    title: Mapped[str] = mapped_column(sa.String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_posted_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_poster_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    # Counters kept in the same transaction as the posts and votes they count.
    reply_count: Mapped[int] = mapped_column(default=0)
    post_count: Mapped[int] = mapped_column(default=0)
    score: Mapped[int] = mapped_column(default=0)
    solved_post_id: Mapped[int | None] = mapped_column(sa.ForeignKey("posts.id", use_alter=True))
    # The community staff's official answer: one column, so a topic never has two.
    official_post_id: Mapped[int | None] = mapped_column(sa.ForeignKey("posts.id", use_alter=True))
    idea_status: Mapped[IdeaStatus | None] = mapped_column(str_enum(IdeaStatus))
    pinned: Mapped[bool] = mapped_column(default=False)
    locked: Mapped[bool] = mapped_column(default=False)
    duplicate_of_id: Mapped[int | None] = mapped_column(sa.ForeignKey("topics.id"))
    # Set with deleted_at when a moderator merged this topic's posts into another: its address leads there.
    merged_into_id: Mapped[int | None] = mapped_column(sa.ForeignKey("topics.id"))
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Set while its opening post waits for a moderator (portal/moderation/holds.py): only the author and
    # moderators see the topic until it is approved.
    held_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Bumped by every action on the topic or its posts: a cached rendering of an older version is stale.
    version: Mapped[int] = mapped_column(default=0, server_default="0")

    category: Mapped[Category] = relationship()
    author = relationship("User", foreign_keys=[author_id])
    last_poster = relationship("User", foreign_keys=[last_poster_id])
    tags: Mapped[list[Tag]] = relationship(secondary=topic_tags, order_by=Tag.name)
    duplicate_of: Mapped["Topic | None"] = relationship(remote_side=[id], foreign_keys=[duplicate_of_id])

    @property
    def is_solved(self):
        return self.solved_post_id is not None

    @property
    def is_closed(self):
        return self.locked or self.duplicate_of_id is not None


class Post(db.Model):
    __tablename__ = "posts"
    __table_args__ = (sa.UniqueConstraint("topic_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    topic_id: Mapped[int] = mapped_column(sa.ForeignKey("topics.id"))
    number: Mapped[int]
    author_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), index=True)
    reply_to_id: Mapped[int | None] = mapped_column(sa.ForeignKey("posts.id"))
    source: Mapped[str] = mapped_column(sa.Text)
    html: Mapped[str] = mapped_column(sa.Text)
    sanitizer_version: Mapped[int] = mapped_column(default=1)
    score: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    edited_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revision_count: Mapped[int] = mapped_column(default=0)
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Set when enough members flag the post; cleared or confirmed by a moderator.
    hidden_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Set while the post waits for a moderator before publication: stored, but only its author and
    # moderators see it, and nothing (points, notifications, counts) follows until it is approved.
    held_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    topic: Mapped[Topic] = relationship(foreign_keys=[topic_id])
    author = relationship("User", foreign_keys=[author_id])
    reply_to: Mapped["Post | None"] = relationship(remote_side=[id])

    @property
    def is_visible(self):
        return self.deleted_at is None and self.hidden_at is None and self.held_at is None

    @property
    def is_official(self):
        """Whether community staff marked this answer as its question's official one."""
        return self.topic.official_post_id == self.id


class PostRevision(db.Model):
    """The text of a post before one edit: the history shown beside it."""
    __tablename__ = "post_revisions"
    __table_args__ = (sa.UniqueConstraint("post_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    post_id: Mapped[int] = mapped_column(sa.ForeignKey("posts.id"))
    number: Mapped[int]
    editor_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    title: Mapped[str | None] = mapped_column(sa.String(200))
    source: Mapped[str] = mapped_column(sa.Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    editor = relationship("User")


class Vote(db.Model):
    __tablename__ = "votes"
    __table_args__ = (
        sa.UniqueConstraint("voter_id", "post_id"),
        sa.CheckConstraint("value IN (-1, 1)", name="value"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    post_id: Mapped[int] = mapped_column(sa.ForeignKey("posts.id"), index=True)
    voter_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    value: Mapped[int]
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class IdeaStatusChange(db.Model):
    __tablename__ = "idea_status_changes"

    id: Mapped[int] = mapped_column(primary_key=True)
    topic_id: Mapped[int] = mapped_column(sa.ForeignKey("topics.id"), index=True)
    status: Mapped[IdeaStatus] = mapped_column(str_enum(IdeaStatus))
    reply: Mapped[str] = mapped_column(sa.Text, default="")
    reply_html: Mapped[str] = mapped_column(sa.Text, default="")
    actor_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    actor = relationship("User")


class Flag(db.Model):
    __tablename__ = "flags"
    __table_args__ = (sa.UniqueConstraint("post_id", "flagger_id"),
                      # A flagger's record (flag_weight) without reading every flag.
                      sa.Index("ix_flags_flagger_outcome", "flagger_id", "outcome"))

    id: Mapped[int] = mapped_column(primary_key=True)
    post_id: Mapped[int] = mapped_column(sa.ForeignKey("posts.id"), index=True)
    flagger_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    reason: Mapped[FlagReason] = mapped_column(str_enum(FlagReason))
    text: Mapped[str] = mapped_column(sa.String(500), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # How much this flag counts towards hiding the post: the flagger's record when they flagged
    # (portal/community/flags.py flag_weight), so a member whose flags moderators keep rejecting counts less.
    weight: Mapped[float] = mapped_column(sa.Float, default=1.0, server_default="1")
    outcome: Mapped[FlagOutcome | None] = mapped_column(str_enum(FlagOutcome))


class Follow(db.Model):
    __tablename__ = "follows"
    __table_args__ = (
        sa.UniqueConstraint("user_id", "target_type", "target_id"),
        sa.Index("ix_follows_target", "target_type", "target_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    target_type: Mapped[FollowTarget] = mapped_column(str_enum(FollowTarget))
    target_id: Mapped[int]
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    @classmethod
    def by_reader(cls, target_type, target_id):
        """Whether the reader bound as "reader_id" follows the target: a column to read with the target's row."""
        return sa.exists().where(cls.user_id == sa.bindparam("reader_id"), cls.target_type == target_type,
                                 cls.target_id == target_id).label("followed")


class TopicRead(db.Model):
    """How far a member has read a topic: the highest post number seen."""
    __tablename__ = "topic_reads"

    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), primary_key=True)
    topic_id: Mapped[int] = mapped_column(sa.ForeignKey("topics.id"), primary_key=True)
    last_read_number: Mapped[int] = mapped_column(default=0)
    read_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ReadingVersion(db.Model):
    """A counter per member that moves with every write to their read marks, so what is derived from them (the
    unread counts of a page of a list) can be cached until it does (community/reading.py)."""
    __tablename__ = "reading_versions"

    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    version: Mapped[int] = mapped_column(sa.BigInteger, default=0)


class CacheVersion(db.Model):
    """A counter that makes cached renderings stale when it moves (community/lists.py: every topic list)."""
    __tablename__ = "cache_versions"

    name: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    version: Mapped[int] = mapped_column(sa.BigInteger, default=0)
