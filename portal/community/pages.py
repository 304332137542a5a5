"""What the community's pages show, read in a fixed number of queries.

The services own the rules; this module only gathers their answers into what
one page needs (and the few read queries no service has), so each view stays
a handful of lines. Nothing here writes.
"""
from dataclasses import dataclass, field

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm import joinedload

from ..auth.models import User, UserStatus
from ..errors import NotFound
from ..extensions import db
from ..permissions import Permission, Role, can
from . import access, follows, posts, reading, topics
from .models import Category, FollowTarget, IdeaStatusChange, Post, Topic, TopicKind
from .official import may_be_official


def review_items(posts):
    """{post id: its open review item, else its last} for the held and hidden posts among `posts` (what the
    author is told they wait for, or why they were hidden)."""
    from ..moderation.queue import items_of_withheld  # moderation sits above the community

    return items_of_withheld(posts)


def _signed_in(user):
    return getattr(user, "is_authenticated", False)


# -- lists -------------------------------------------------------------------------------

def unread_counts(user, topic_page):
    """{topic id: posts new since the reader's last visit} for one page of topics (one query)."""
    items = topic_page.items
    marks = reading.read_marks(user, [t.id for t in items])
    return {t.id: reading.unread_count(t, marks) for t in items}


@dataclass
class CategorySummary:
    category: Category
    topic_count: int = 0
    latest: Topic | None = None


def category_summaries(user):
    """The categories `user` may read with their topic count and latest topic: two queries."""
    categories = db.session.scalars(access.readable_categories(user)).all()
    visible = access.visible_topics(user)
    ranked = visible.with_only_columns(
        Topic.id, Topic.category_id,
        sa.func.count().over(partition_by=Topic.category_id).label("topic_count"),
        sa.func.row_number().over(partition_by=Topic.category_id,
                                  order_by=(Topic.last_posted_at.desc(), Topic.id.desc())).label("rank"),
    ).subquery()
    rows = db.session.execute(
        sa.select(Topic, ranked.c.topic_count).join(ranked, ranked.c.id == Topic.id)
        .where(ranked.c.rank == 1).options(joinedload(Topic.last_poster))
    ).all()
    latest = {topic.category_id: (topic, n) for topic, n in rows}
    summaries = []
    for category in categories:
        topic, n = latest.get(category.id, (None, 0))
        summaries.append(CategorySummary(category, n, topic))
    return summaries


def top_members(limit=6):
    """The active members with the most points, and how many active members there are."""
    active = sa.select(User).where(User.status == UserStatus.ACTIVE, User.role == Role.MEMBER)
    members = db.session.scalars(active.order_by(User.points.desc(), User.id).limit(limit)).all()
    count = db.session.scalar(sa.select(sa.func.count()).select_from(active.subquery()))
    return members, count


def writable_categories(user):
    """The categories `user` may start topics in, in display order."""
    return [c for c in db.session.scalars(access.readable_categories(user)) if access.can_write(user, c)]


# -- the topic page ------------------------------------------------------------------------

@dataclass
class PostEntry:
    """One post as the reader sees it, with what the reader may do to it."""
    post: Post
    my_vote: int = 0
    accepted: bool = False
    official: bool = False
    can_vote: bool = False
    can_downvote: bool = False
    can_edit: bool = False
    can_flag: bool = False
    can_accept: bool = False
    can_mark_official: bool = False
    can_unmark_official: bool = False
    can_quote: bool = False
    # The review item of a held or hidden post (open, else the last decided): why it waits or was hidden,
    # for its author and moderators.
    review_item: object = None


# Why the reply box is not shown; "open" shows it.
REPLY_OPEN, REPLY_SIGN_IN, REPLY_READ_ONLY, REPLY_LOCKED, REPLY_DUPLICATE, REPLY_DELETED = (
    "open", "sign_in", "read_only", "locked", "duplicate", "deleted")


@dataclass
class TopicPage:
    topic: Topic
    posts: object  # the Pagination of posts.topic_posts
    entries: list[PostEntry]
    tags: list
    following: bool
    moderator: bool
    reply_state: str
    can_edit_details: bool = False
    can_close_duplicates: bool = False
    history: list[IdeaStatusChange] = field(default_factory=list)
    move_choices: list[Category] = field(default_factory=list)

    @property
    def highest_number(self):
        return max((entry.post.number for entry in self.entries), default=None)

    @property
    def read_up_to(self):
        """The post number the reader has now seen everything up to, if any.

        Answers to a question read by votes, so a page in the middle says
        nothing about lower numbers: only the last page completes the topic.
        """
        if self.topic.kind != TopicKind.QUESTION:
            return self.highest_number
        return self.topic.post_count if not self.posts.has_next else None

    @property
    def first(self):
        return next((entry for entry in self.entries if entry.post.number == 1), None)

    @property
    def replies(self):
        return [entry for entry in self.entries if entry.post.number != 1]


def _reply_state(user, topic, moderator):
    if topic.deleted_at:
        return REPLY_DELETED
    if not _signed_in(user):
        return REPLY_SIGN_IN
    if not access.can_write(user, topic.category):
        return REPLY_READ_ONLY
    if topic.is_closed and not moderator:
        return REPLY_DUPLICATE if topic.duplicate_of_id else REPLY_LOCKED
    return REPLY_OPEN


def _entry(user, topic, post, my_vote, moderator, reply_state, may_flag):
    own = _signed_in(user) and post.author_id == user.id
    is_question = topic.kind == TopicKind.QUESTION
    open_to_edit = not topic.deleted_at and (not topic.is_closed or moderator)
    may_accept = is_question and post.number != 1 and (moderator or (_signed_in(user) and topic.author_id == user.id))
    may_vote = can(user, Permission.VOTE) and not own and not topic.deleted_at and post.held_at is None
    first_of_idea = topic.kind == TopicKind.IDEA and post.number == 1
    is_official = topic.official_post_id == post.id
    return PostEntry(
        post=post, my_vote=my_vote, accepted=topic.solved_post_id == post.id, official=is_official,
        can_vote=may_vote, can_downvote=may_vote and not first_of_idea,
        can_edit=(own or moderator) and open_to_edit,
        can_flag=may_flag and not own and post.hidden_at is None and post.held_at is None,
        can_accept=may_accept, can_mark_official=moderator and not is_official and may_be_official(post, topic),
        can_unmark_official=moderator and is_official and not topic.deleted_at,
        can_quote=reply_state == REPLY_OPEN and post.hidden_at is None,  # the author sees it: not to repost it
    )


def topic_page(user, topic_id, page=1):
    """Everything the topic page shows; the same number of queries for 1 post or 100."""
    topic = topics.get_topic(user, topic_id)
    page_of_posts = posts.topic_posts(user, topic, page=page)
    votes = posts.my_votes(user, page_of_posts.items)
    moderator = access.is_moderator(user)
    reply_state = _reply_state(user, topic, moderator)
    may_flag = can(user, Permission.FLAG)
    entries = [_entry(user, topic, post, votes.get(post.id, 0), moderator, reply_state, may_flag)
               for post in page_of_posts.items]
    withheld = review_items(page_of_posts.items)
    for entry in entries:
        entry.review_item = withheld.get(entry.post.id)
    open_to_change = not topic.deleted_at and _signed_in(user)
    view = TopicPage(topic=topic, posts=page_of_posts, entries=entries, tags=list(topic.tags),
                     following=follows.is_following(user, FollowTarget.TOPIC, topic.id),
                     moderator=moderator, reply_state=reply_state,
                     can_edit_details=open_to_change and topics.may_edit_details(user, topic),
                     can_close_duplicates=open_to_change and topics.may_close_duplicates(user))
    if topic.kind == TopicKind.IDEA:
        view.history = idea_history(topic)
    if moderator:
        view.move_choices = [c for c in db.session.scalars(access.readable_categories(user))
                             if c.id != topic.category_id]
    return view


def idea_history(topic):
    """The idea's status changes with the staff replies, newest first (one query)."""
    return db.session.scalars(
        sa.select(IdeaStatusChange).where(IdeaStatusChange.topic_id == topic.id)
        .options(joinedload(IdeaStatusChange.actor))
        .order_by(IdeaStatusChange.created_at.desc(), IdeaStatusChange.id.desc())
    ).all()


def quote(user, topic, post_id):
    """(Markdown quote of a post, its id) for the reply box; None unless it is a readable post of `topic`."""
    try:
        post = posts.get_post(user, post_id)
    except NotFound:
        return None
    if post.topic_id != topic.id:
        return None
    quoted = "\n".join(f"> {line}" if line else ">" for line in post.source.splitlines())
    return f"{quoted}\n\n", post.id


# -- finding a post among the pages ---------------------------------------------------------

def _place(numbers, index):
    per_page = current_app.config["POSTS_PER_PAGE"]
    return index // per_page + 1, numbers[index]


def locate_post(user, topic_id, number):
    """(page, number) where post `number` of a topic is shown; the first post if it is not visible."""
    numbers = posts.visible_numbers(user, topics.get_topic(user, topic_id))
    if not numbers:
        return 1, 1
    return _place(numbers, numbers.index(number) if number in numbers else 0)


def first_unread(user, topic_id):
    """(page, number) of the first post shown that the reader has not seen; the last one if all are read."""
    topic = topics.get_topic(user, topic_id)
    last_read = reading.read_marks(user, [topic.id]).get(topic.id, 0)
    numbers = posts.visible_numbers(user, topic)
    if not numbers:
        return 1, 1
    index = next((i for i, n in enumerate(numbers) if n > last_read), len(numbers) - 1)
    return _place(numbers, index)
