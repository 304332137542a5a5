"""Topic lists from a cache the activity spine keeps fresh.

A list (latest, top, a category, a tag, ideas, the home page) is a page of
topic ids in an order, read off an index (models.Topic), and one row per
topic. Both are cached. The page of ids, with the list's total, is cached
under the community's list version: a counter (CacheVersion "topic-lists")
that every action which can change a list moves in its own transaction, as
that transaction's last write, so it is locked only while the transaction
commits and no two transactions wait on each other for it. A reader reads
the counter first, so what it caches is at least as new as the version it
caches it under. Nothing expires by time: a new version is a new key.

What differs between readers is in the key: how far they reach (visitors,
members, staff), whether they moderate (moderators see held topics), the
filters and the page. A member whose own topic waits for review sees it in
lists nobody else does: their lists skip the shared cache while it waits.

A row is cached per topic version, language, time zone and list style (as
post cards are, cards.py); the reader's unread count and how long ago the
topic was active are slots (portal/slots.py), filled in as the page leaves.
"""
import hashlib
from dataclasses import dataclass
from functools import partial

import flask
import sqlalchemy as sa
from flask import get_template_attribute
from flask_babel import get_locale, get_timezone
from markupsafe import Markup
from sqlalchemy import event
from sqlalchemy.orm import joinedload

from .. import slots
from ..auth.sessions import NOT_READ, read_along, read_with_user
from ..events import Verb, listens_to
from ..extensions import cache, db
from ..idempotency import bump_counter
from ..pagination import PageNavigation
from ..sqltypes import utcnow
from . import access, reading, topics
from .freshness import TOPIC_VERBS
from .models import CacheVersion, Category, Topic

VERSION = "topic-lists"
# Every action that can add a topic to a list, take one out, or change its place or its row.
LIST_VERBS = (*TOPIC_VERBS, Verb.TOPIC_MERGED, Verb.TOPIC_SPLIT, Verb.POST_RESTORED)
_CHANGED = "topic_lists_changed"
STYLES = ("topic", "idea")


# -- the version -----------------------------------------------------------------------------

@listens_to(*LIST_VERBS)
def topic_changed(verb, activity, payload, **extra):
    mark_changed()


def mark_changed():
    """Make every cached list stale when the current transaction commits (categories.py calls it too)."""
    db.session.info[_CHANGED] = True


def _bump_before_commit(session):
    if not session.info.pop(_CHANGED, False):
        return
    session.flush()  # every other write first: the counter is the last row this transaction locks
    bump_counter(session, CacheVersion, {"name": VERSION})


def _forget_after_rollback(session):
    session.info.pop(_CHANGED, None)


def listen_for_commits():
    for name, listener in (("before_commit", _bump_before_commit), ("after_rollback", _forget_after_rollback)):
        if not event.contains(db.session, name, listener):
            event.listen(db.session, name, listener)


_LIST_VERSION = sa.select(CacheVersion.version).where(CacheVersion.name == VERSION)  # built once: every list reads it
read_with_user("list_version", _LIST_VERSION.scalar_subquery())  # a member's lists: no statement of their own


def list_version():
    """The list version this request reads under (read once per request, with a member's user)."""
    # (flask.g, not an imported proxy: connect_subscribers() looks at every name in this module.)
    if "list_version" not in flask.g:
        along = read_along("list_version")
        flask.g.list_version = (db.session.scalar(_LIST_VERSION) if along is NOT_READ else along) or 0
    return flask.g.list_version


def _cached(key, compute):
    """cache[key], computed and stored on a miss. Keys carry the list version, so a change makes a new key;
    the cache's timeout only clears away the old ones."""
    value = cache.get(key)
    if value is None:
        value = compute()
        cache.set(key, value)
    return value


def reader_key(user):
    """The part of a key that says what `user` may see of lists, or None when their lists are their own."""
    moderator = access.is_moderator(user)
    if not moderator and getattr(user, "is_authenticated", False) and user.id in _held_authors():
        return None
    return f"{access.readable_levels(user)[-1]}{int(moderator)}"


def _held_authors():
    """The members who have a topic waiting for review (each sees it in their lists)."""
    def compute():
        return frozenset(db.session.scalars(sa.select(Topic.author_id).distinct()
                                            .where(Topic.held_at.is_not(None), Topic.deleted_at.is_(None))))
    return _cached(f"lists:v{list_version()}:held", compute)


# -- pages of topics ---------------------------------------------------------------------------

@dataclass(frozen=True)
class Listed:
    """What a list keeps of each topic on a page: enough for the row's key and the reader's unread count."""
    id: int
    version: int
    post_count: int
    last_posted_at: object


@dataclass
class ListPage(PageNavigation):
    items: list[Listed]
    total: int
    page: int
    per_page: int


def topic_page(user, *, page=1, per_page=None, **filters):
    """One page of the topics `user` may see in a list (topics.list_query()'s `filters`), from the cache."""
    per_page = min(per_page or flask.current_app.config["TOPICS_PER_PAGE"], 100)
    # Built on a miss only; a bad sort or filter is refused there, and nothing is cached for it.
    compute = partial(_read_page, user, filters, page, per_page)
    reader = reader_key(user)
    if reader is None or filters.get("topic_ids") is not None:  # a list of one reader's own
        return compute()
    return _cached(f"lists:v{list_version()}:{reader}:{_filters_key(filters)}:p{page}:{per_page}", compute)


def _filters_key(filters):
    parts = []
    for name, value in sorted(filters.items()):
        if value is None:
            continue
        parts.append(f"{name}={value.id if isinstance(value, Category) else value}")
    if filters.get("period", "all") != "all":
        parts.append(f"day={utcnow().date()}")  # "this week" moves on with the calendar
    return "&".join(parts).replace(" ", "%20")


def _read_page(user, filters, page, per_page):
    """The page, read off the list's index, and the list's total (a count, which needs no order)."""
    query = topics.list_query(user, **filters)
    rows = db.session.execute(
        query.with_only_columns(Topic.id, Topic.version, Topic.post_count, Topic.last_posted_at)
        .limit(per_page).offset((page - 1) * per_page)
    ).all()
    total = db.session.scalar(sa.select(sa.func.count()).select_from(
        query.with_only_columns(Topic.id).order_by(None).subquery()))
    return ListPage(items=[Listed(*row) for row in rows], total=total, page=page, per_page=per_page)


@slots.filler("unread-class")
def _fill_unread_class(arguments):
    return {argument: " topic-row--unread" if new else "" for argument, new in _unread(arguments).items()}


@slots.filler("unread")
def _fill_unread(arguments):
    link = get_template_attribute("community/_topic_row.html", "unread_link")
    return {argument: str(link(int(argument.partition(".")[0]), new)) if new else ""
            for argument, new in _unread(arguments).items()}


def _unread(arguments):
    """{"topic id.post count": posts the reader has not seen} for a page's rows: the reader's read marks in
    one query a page (none for visitors), kept under their reading version for the next time they see these
    rows alike."""
    from flask_login import current_user  # (a proxy: not a module name connect_subscribers() would look at)

    counts = flask.g.setdefault("unread_counts", {})
    missing = arguments.difference(counts)
    if missing:
        counts.update(_unread_counts(current_user._get_current_object(), missing))
    return {argument: counts[argument] for argument in arguments}


def _unread_counts(reader, arguments):
    version = reading.reading_version(reader)
    if version is None:  # not read with the session's user: no key to keep them under
        return _count_unread(reader, arguments)
    rows = hashlib.blake2b(" ".join(sorted(arguments)).encode(), digest_size=12).hexdigest()
    return _cached(f"unread:{reader.id}:r{version}:{rows}", partial(_count_unread, reader, arguments))


def _count_unread(reader, arguments):
    rows = {}
    for argument in arguments:
        topic_id, post_count = map(int, argument.split("."))
        rows[argument] = Listed(topic_id, version=0, post_count=post_count, last_posted_at=None)
    marks = reading.read_marks(reader, {listed.id for listed in rows.values()})
    return {argument: reading.unread_count(listed, marks) for argument, listed in rows.items()}


# -- rows --------------------------------------------------------------------------------------

def topic_rows(user, listing, *, style="topic", show_category=True):
    """The rows of a page of a list, as Markup, in order: from the cache where possible, the misses loaded
    in one query, tags and all, and rendered."""
    if not listing.items:
        return []
    shared = f"{get_locale()}:{get_timezone()}:{style}{int(show_category)}"
    keys = [f"row2:{listed.id}:v{listed.version}:{shared}" for listed in listing.items]
    found = cache.get_many(*keys)
    missing = [listed.id for listed, html in zip(listing.items, found, strict=True) if html is None]
    if missing:
        fresh = _render_rows(missing, style, show_category)
        found = [html if html is not None else fresh[listed.id]
                 for listed, html in zip(listing.items, found, strict=True)]
        cache.set_many({key: fresh[listed.id] for key, listed in zip(keys, listing.items, strict=True)
                        if listed.id in fresh})
    return [Markup(html) for html in found]


def _render_rows(topic_ids, style, show_category):
    loaded = db.session.scalars(
        sa.select(Topic).where(Topic.id.in_(topic_ids))
        .options(joinedload(Topic.category), joinedload(Topic.author), joinedload(Topic.tags))
    ).unique().all()
    macro = get_template_attribute("community/_topic_row.html", f"{style}_row")
    return {topic.id: str(macro(topic, show_category=show_category)) for topic in loaded}


# -- the home page's side panels ------------------------------------------------------------------

@dataclass(frozen=True)
class CategoryCard:
    id: int
    slug: str
    name: str
    description: str


@dataclass(frozen=True)
class LatestTopic:
    id: int
    title: str
    last_posted_at: object


@dataclass(frozen=True)
class CategorySummary:
    category: CategoryCard
    topic_count: int
    latest: LatestTopic | None


def category_summaries(user):
    """The categories `user` may read with their topic count and latest topic (cached; two queries on a
    miss)."""
    reader = reader_key(user)
    compute = partial(_summaries, user)
    return compute() if reader is None else _cached(f"lists:v{list_version()}:{reader}:categories", compute)


def _summaries(user):
    categories = db.session.scalars(access.readable_categories(user)).all()
    ranked = access.visible_topics(user).with_only_columns(
        Topic.id, Topic.category_id, Topic.title, Topic.last_posted_at,
        sa.func.count().over(partition_by=Topic.category_id).label("topic_count"),
        sa.func.row_number().over(partition_by=Topic.category_id,
                                  order_by=(Topic.last_posted_at.desc(), Topic.id.desc())).label("rank"),
    ).subquery()
    latest = {row.category_id: row for row in db.session.execute(sa.select(ranked).where(ranked.c.rank == 1))}
    summaries = []
    for category in categories:
        row = latest.get(category.id)
        summaries.append(CategorySummary(
            CategoryCard(category.id, category.slug, category.name, category.description),
            row.topic_count if row else 0, LatestTopic(row.id, row.title, row.last_posted_at) if row else None))
    return summaries


def tag_counts(user, limit=30):
    """topics.tag_counts(), cached under the list version."""
    reader = reader_key(user)
    compute = partial(_tag_counts, user, limit)
    return compute() if reader is None else _cached(f"lists:v{list_version()}:{reader}:tags:{limit}", compute)


def _tag_counts(user, limit):
    return [tuple(row) for row in topics.tag_counts(user, limit=limit)]
