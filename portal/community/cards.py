"""Post cards, rendered once per version and kind of reader and cached.

A card is most of a topic page's work (dates, badges, avatars, a dozen
translated labels and links). What it shows depends on the post and its
topic, whose `version` every action on either bumps (freshness.py); the
reader's language and time zone; the page it is on; and what the reader may
do to it (PostEntry's flags and vote). Readers alike in those share one
cached card. Two things differ per reader and per moment and are filled in
after the cache: the CSRF token of the reader's session, and how long ago
the post was written. An author's new name or level reaches cached cards
within CACHE_DEFAULT_TIMEOUT, as on visitors' cached pages.
"""
from dataclasses import fields, replace

import sqlalchemy as sa
from flask import current_app, get_template_attribute
from flask_babel import get_locale, get_timezone
from flask_wtf.csrf import generate_csrf
from markupsafe import Markup
from sqlalchemy.orm import joinedload, selectinload

from ..extensions import cache, db
from .forms import FlagForm
from .models import Post
from .pages import PostEntry

# Placeholders no member text can produce: content.Body drops NUL from everything members write.
TOKEN_SLOT = "\x00csrf\x00"
AGO_SLOT = "\x00ago\x00"
# What an entry holds beyond the post, its vote and its review item: the reader's side of the card.
_READER_FLAGS = tuple(f.name for f in fields(PostEntry) if f.name not in ("post", "my_vote", "review_item"))


def post_cards(view, *, may_flag_leads):
    """The cards of a topic page's posts, in order, as Markup: from the cache where possible, the misses
    rendered and stored in one round trip each."""
    if not view.entries:
        return []
    page, page_url = view.posts.page, _page_url(view)
    context = {"topic": view.topic, "page": page, "page_url": page_url, "moderator": view.moderator,
               "may_flag_leads": bool(may_flag_leads)}
    shared = _shared_key(context)
    keys = [_key(entry, shared) for entry in view.entries]
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
                                                      token=TOKEN_SLOT, ago_slot=AGO_SLOT, **context))
        cache.set_many(fresh)
    # Only cards with a form need the token; visitors' have none (and must not get a session for one).
    token = generate_csrf() if any(TOKEN_SLOT in html for html in found) else ""
    ago = current_app.jinja_env.filters["ago"]  # as every page says it
    return [Markup(html.replace(TOKEN_SLOT, token).replace(AGO_SLOT, str(ago(entry.post.created_at))))
            for entry, html in zip(view.entries, found, strict=True)]


def _posts(post_ids):
    """{id: Post} with what a card shows of them loaded: authors, and the posts they reply to with theirs."""
    return {post.id: post for post in db.session.scalars(
        sa.select(Post).where(Post.id.in_(post_ids))
        .options(joinedload(Post.author), selectinload(Post.reply_to).joinedload(Post.author)))}


def _page_url(view):
    from flask import url_for

    page = view.posts.page
    return url_for("community.topic", topic_id=view.topic.id, page=page if page > 1 else None)


def _key(entry, shared):
    item = entry.review_item
    reader = "".join([str(entry.my_vote), *("1" if getattr(entry, name) else "0" for name in _READER_FLAGS)])
    withheld = f"{item.id}.{item.status}" if item is not None else "-"
    return f"card:{entry.post.id}:{shared}:{reader}:{withheld}"


def _shared_key(context):
    """What every card of one page shares in its key."""
    return (f"t{context['topic'].version}:{get_locale()}:{get_timezone()}:p{context['page']}"
            f":m{int(context['moderator'])}{int(context['may_flag_leads'])}:{current_app.config['POSTS_PER_PAGE']}")
