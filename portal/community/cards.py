"""Post cards, rendered once per version and kind of reader and cached.

A card is most of a topic page's work (dates, badges, avatars, a dozen
translated labels and links). What it shows depends on the post and its
topic, whose `version` every action on either bumps (freshness.py); the
reader's language and time zone; the page it is on; and what the reader may
do to it (PostEntry's flags). Readers alike in those share one cached card.
The reader's vote on the post is part of the key too (most readers have
none; posts.topic_votes reads a reader's votes once per topic version).
What differs per reader and per moment is a slot (portal/slots.py), filled
in as the page leaves: the CSRF token of the reader's session, how long ago
the post was written. An author's new name or level reaches cached cards
within CACHE_DEFAULT_TIMEOUT, as on visitors' cached pages.
"""
from dataclasses import fields, replace

import sqlalchemy as sa
from flask import current_app, get_template_attribute, url_for
from flask_babel import get_locale, get_timezone
from markupsafe import Markup
from sqlalchemy.orm import joinedload, selectinload

from ..extensions import cache, db
from . import posts
from .forms import FlagForm
from .models import Post
from .pages import PostEntry

# What an entry holds beyond the post and its review item: the reader's side of the card.
_READER_FLAGS = tuple(f.name for f in fields(PostEntry) if f.name not in ("post", "review_item"))


def post_cards(view, *, may_flag_leads):
    """The cards of a topic page's posts, in order, as Markup: from the cache where possible, the misses
    rendered and stored in one round trip each."""
    if not view.entries:
        return []
    page, page_url = view.posts.page, _page_url(view)
    context = {"topic": view.topic, "page": page, "page_url": page_url, "moderator": view.moderator,
               "may_flag_leads": bool(may_flag_leads)}
    shared = _shared_key(context)
    votes = _readers_votes(view.topic)
    keys = [_key(entry, shared, votes.get(entry.post.id, 0)) for entry in view.entries]
    found = cache.get_many(*keys)
    missing = [entry for entry, html in zip(view.entries, found, strict=True) if html is None]
    if missing:
        macro = get_template_attribute("community/_post_card.html", "post_card")
        flag_form = FlagForm(formdata=None)
        loaded = _posts([entry.post.id for entry in missing])
        fresh = {}
        for index, (entry, key) in enumerate(zip(view.entries, keys, strict=True)):
            if found[index] is None:
                found[index] = fresh[key] = str(macro(replace(entry, post=loaded[entry.post.id]), flag_form=flag_form,
                                                      my_vote=votes.get(entry.post.id, 0), **context))
        cache.set_many(fresh)
    return [Markup(html) for html in found]


def _readers_votes(topic):
    """{post id: +1 or -1}: the reader's votes in `topic`, which their cards show pressed."""
    from flask_login import current_user  # (a proxy, imported where it is used, as everywhere in this package)

    return posts.topic_votes(current_user._get_current_object(), topic.id, topic.version)


def _posts(post_ids):
    """{id: Post} with what a card shows of them loaded: authors, and the posts they reply to with theirs."""
    return {post.id: post for post in db.session.scalars(
        sa.select(Post).where(Post.id.in_(post_ids))
        .options(joinedload(Post.author), selectinload(Post.reply_to).joinedload(Post.author)))}


def _page_url(view):
    page = view.posts.page
    return url_for("community.topic", topic_id=view.topic.id, page=page if page > 1 else None)


def _key(entry, shared, my_vote):
    item = entry.review_item
    reader = "".join("1" if getattr(entry, name) else "0" for name in _READER_FLAGS)
    withheld = f"{item.id}.{item.status}" if item is not None else "-"
    return f"card3:{entry.post.id}:{shared}:{reader}:{my_vote}:{withheld}"


def _shared_key(context):
    """What every card of one page shares in its key."""
    return (f"t{context['topic'].version}:{get_locale()}:{get_timezone()}:p{context['page']}"
            f":m{int(context['moderator'])}{int(context['may_flag_leads'])}:{current_app.config['POSTS_PER_PAGE']}")
