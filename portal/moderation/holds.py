"""Which posts wait for a moderator before anyone else sees them, decided by the post services before publishing.

Three rules, each the admin's to tune on /admin/settings/moderation:
a new account's first posts (off by default), a new account's post with
links, and a post using a watched word (English whole words, Chinese
anywhere, Traditional and Simplified alike: text.Terms). Staff are never held.
"""
from dataclasses import dataclass, field

import sqlalchemy as sa

from ..community import markdown
from ..community.limits import is_new_account
from ..community.models import Post
from ..extensions import db
from ..permissions import STAFF_ROLES
from .models import ReviewReason
from .rules import moderation_rules


@dataclass(frozen=True)
class Hold:
    reasons: list[str] = field(default_factory=list)
    terms: list[str] = field(default_factory=list)

    def __bool__(self):
        return bool(self.reasons)


def hold_for(author, source, *, title=""):
    """The Hold for a post `author` is about to publish (falsy when it may go out at once)."""
    if author.role in STAFF_ROLES:
        return Hold()
    rules = moderation_rules()
    reasons = []
    if is_new_account(author):
        if rules.hold_first_posts and _posts_written(author) < rules.first_posts_to_hold:
            reasons.append(ReviewReason.HELD_NEW_ACCOUNT.value)
        if has_links(source):
            reasons.append(ReviewReason.HELD_LINKS.value)
    terms = rules.watched_terms.found_in(f"{title}\n{source}")
    if terms:
        reasons.append(ReviewReason.HELD_WATCHED_WORDS.value)
    return Hold(reasons, terms)


def has_links(source):
    """Whether the text has a link or an image once rendered with links allowed (mentions are not links here)."""
    html = markdown.render(source, allow_links=True).html
    return "<a " in html or "<img " in html


def _posts_written(author):
    return db.session.scalar(sa.select(sa.func.count()).select_from(Post).where(Post.author_id == author.id))
