"""What the community's pages show, read in a fixed number of queries.

The services own the rules; this module only gathers their answers into what
one page needs (and the few read queries no service has), so each view stays
a handful of lines. Nothing here writes.
"""
import hashlib
from dataclasses import dataclass, field

import flask
import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm import joinedload

from ..auth.models import User, UserStatus
from ..errors import NotFound
from ..extensions import cache, db
from ..pagination import PageNavigation
from ..permissions import Permission, Role, can, roles_with
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


# -- lists (the topics themselves: lists.py) ----------------------------------------------

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
    """One post as the reader sees it, with what the reader may do to it (their vote is a slot of its card:
    cards.py)."""
    post: Post
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


def _entry(reader_id, topic, post, moderator, reply_state, may_flag, may_vote):
    own = reader_id is not None and post.author_id == reader_id
    is_question = topic.kind == TopicKind.QUESTION
    open_to_edit = not topic.deleted_at and (not topic.is_closed or moderator)
    may_accept = is_question and post.number != 1 and (moderator or (reader_id is not None
                                                                     and topic.author_id == reader_id))
    voting = may_vote and not own and not topic.deleted_at and post.held_at is None
    first_of_idea = topic.kind == TopicKind.IDEA and post.number == 1
    is_official = topic.official_post_id == post.id
    return PostEntry(
        post=post, accepted=topic.solved_post_id == post.id, official=is_official,
        can_vote=voting, can_downvote=voting and not first_of_idea,
        can_edit=(own or moderator) and open_to_edit,
        can_flag=may_flag and not own and post.hidden_at is None and post.held_at is None,
        can_accept=may_accept,
        can_mark_official=moderator and not is_official and may_be_official(post, topic, post.author_is_staff),
        can_unmark_official=moderator and is_official and not topic.deleted_at,
        can_quote=reply_state == REPLY_OPEN and post.hidden_at is None,  # the author sees it: not to repost it
    )


@dataclass(frozen=True)
class ShownPost:
    """What a topic page needs of a post to decide the reader's side of its card (cards.py renders the card
    itself, from the post, only when no cached card fits)."""
    id: int
    number: int
    author_id: int
    score: int
    hidden_at: object
    held_at: object
    created_at: object
    author_is_staff: bool  # a moderator or an admin: their answer may be marked official

    @property
    def is_visible(self):  # (deleted posts are never shown)
        return self.hidden_at is None and self.held_at is None


@dataclass(frozen=True)
class TagName:
    name: str


@dataclass
class PostsPage(PageNavigation):
    items: list[ShownPost]
    total: int
    page: int
    per_page: int


@dataclass(frozen=True)
class ShownPage:
    """A page of a topic's posts as every reader but the authors of its withheld posts sees it."""
    posts: PostsPage
    tags: tuple[TagName, ...]
    # Authors of the topic's held and hidden posts: each sees their own, so their pages are their own.
    withheld_authors: frozenset


def shown_page(user, topic, page):
    """The posts of one page of `topic` that `user` sees, its tags, cached per topic version and page: one
    query for the posts and one for the tags on a miss, none on a hit (and read once a request)."""
    per_page = current_app.config["POSTS_PER_PAGE"]
    moderator = access.is_moderator(user)
    key = f"topic-page-posts:{topic.id}:v{topic.version}:p{page}:{per_page}:m{int(moderator)}"
    read = flask.g.setdefault("shown_pages", {})
    if key not in read:
        read[key] = _shown_page(user, topic, page, per_page, key, moderator)
    return read[key]


def _shown_page(user, topic, page, per_page, key, moderator):
    reader_id = user.id if _signed_in(user) else None
    found = cache.get(key)
    if found is not None and (moderator or reader_id not in found.withheld_authors):
        return found
    shown = _read_shown_page(user, topic, page, per_page)
    if moderator or reader_id not in shown.withheld_authors:
        cache.set(key, shown)
    return shown


def _read_shown_page(user, topic, page, per_page):
    withheld = sa.or_(Post.hidden_at.is_not(None), Post.held_at.is_not(None))
    rows = db.session.execute(
        sa.select(Post.id, Post.number, Post.author_id, Post.score, Post.hidden_at, Post.held_at, Post.created_at,
                  User.role.in_(roles_with(Permission.MODERATE)), sa.func.count().over())
        .join(User, User.id == Post.author_id)
        .where(Post.topic_id == topic.id, access.visible_posts_clause(user))
        .order_by(*posts.reading_order(topic)).limit(per_page).offset((page - 1) * per_page)
    ).all()
    total = rows[0][-1] if rows else len(posts.visible_numbers(user, topic))
    authors = frozenset(db.session.scalars(
        sa.select(Post.author_id).distinct().where(Post.topic_id == topic.id, Post.deleted_at.is_(None), withheld)))
    tags = tuple(TagName(tag.name) for tag in topic.tags)
    return ShownPage(PostsPage([ShownPost(*row[:-1]) for row in rows], total, page, per_page), tags, authors)


def topic_page(user, topic_id, page=1):
    """Everything the topic page shows; the same number of queries for 1 post or 100."""
    topic = topics.get_topic(user, topic_id)
    shown = shown_page(user, topic, page)
    moderator = access.is_moderator(user)
    reply_state = _reply_state(user, topic, moderator)
    reader_id = user.id if _signed_in(user) else None
    may_flag, may_vote = can(user, Permission.FLAG), can(user, Permission.VOTE)
    entries = [_entry(reader_id, topic, post, moderator, reply_state, may_flag, may_vote)
               for post in shown.posts.items]
    withheld = review_items(shown.posts.items)
    for entry in entries:
        entry.review_item = withheld.get(entry.post.id)
    open_to_change = not topic.deleted_at and reader_id is not None
    view = TopicPage(topic=topic, posts=shown.posts, entries=entries, tags=list(shown.tags),
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


def reader_of_topic(user, head, page):
    """What a topic page shows of a signed-in reader beyond their kind (access.reader_kind): whether they follow
    it, their votes in it (most readers have none, and share one page), and, when they wrote the topic or a post
    on the page (or one held back), that the page is theirs alone. `head`: the topic's TopicHead."""
    if not _signed_in(user):
        return ""
    own = user.id in page_authors(user, head, page)
    votes = posts.topic_votes(user, head.id, head.version)
    cast = hashlib.blake2b(repr(sorted(votes.items())).encode(), digest_size=8).hexdigest() if votes else "-"
    return f"{f'u{user.id}' if own else 'u'}:f{int(head.followed)}:v{cast}"


def page_authors(user, head, page):
    """Who sees page `page` of a topic (`head`: its TopicHead) as their own: its starter, the authors of the
    posts on it, and every author of a post held back or hidden (only they and moderators see those). Cached per
    topic version; read from the whole topic on a miss."""
    key = f"topic-page-authors:{head.id}:v{head.version}:p{page}:{current_app.config['POSTS_PER_PAGE']}"
    authors = cache.get(key)
    if authors is None:
        shown = shown_page(user, topics.get_topic(user, head.id), page)
        authors = frozenset({head.author_id, *shown.withheld_authors, *(post.author_id for post in shown.posts.items)})
        cache.set(key, authors)
    return authors


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
