"""Turning what a member typed into stored, safe content: titles, bodies, tags."""
import re
import unicodedata

import sqlalchemy as sa
from flask import current_app
from flask_babel import lazy_gettext as _l

from ..auth.models import User, UserStatus
from ..errors import Invalid
from ..extensions import db
from ..levels import level_named
from ..permissions import Permission, can, level_required
from ..text import weighted_length
from . import markdown
from .limits import may_post_links
from .models import Tag

TITLE_MIN, TITLE_MAX = 8, 200
BODY_MIN, BODY_MAX = 2, 30_000
TAGS_MAX = 5
MENTIONS_MAX = 10
_TAG = re.compile(r"^[\w][\w.+#-]{0,29}$", re.UNICODE)


def clean_title(title):
    title = unicodedata.normalize("NFC", " ".join((title or "").split()))
    title = "".join(ch for ch in title if unicodedata.category(ch) not in {"Cc", "Cf"})
    if weighted_length(title) < TITLE_MIN:
        raise Invalid(fields={"title": _l("Write a title of at least %(n)d characters.", n=TITLE_MIN)})
    if len(title) > TITLE_MAX:
        raise Invalid(fields={"title": _l("Keep the title to %(n)d characters.", n=TITLE_MAX)})
    return title


def check_body(body):
    body = (body or "").replace("\x00", "").strip()
    if weighted_length(body) < BODY_MIN:
        raise Invalid(fields={"body": _l("Write at least %(n)d characters.", n=BODY_MIN)})
    if len(body) > BODY_MAX:
        raise Invalid(fields={"body": _l("Keep the post to %(n)d characters.", n=BODY_MAX)})
    return body


class Body:
    """A post body rendered for `author`: safe HTML plus the members it mentions."""

    def __init__(self, author, source, *, allow_links=None):
        self.source = check_body(source)
        self.mentioned_ids = []
        # allow_links: a moderator approving a held post vouches for its links, whatever the author's level.
        allow_links = may_post_links(author) if allow_links is None else allow_links
        rendered = markdown.render(self.source, allow_links=allow_links, mention_url=self._mention_url)
        self.html = rendered.html
        self.version = markdown.SANITIZER_VERSION

    def _mention_url(self, handle):
        if len(self.mentioned_ids) >= MENTIONS_MAX:
            return None
        user = db.session.scalar(sa.select(User).where(sa.func.lower(User.username) == handle.lower(),
                                                       User.status == UserStatus.ACTIVE))
        if user is None:
            return None
        if user.id not in self.mentioned_ids:
            self.mentioned_ids.append(user.id)
        # Built from the URL map alone: posts are also rendered by the CLI, outside any request.
        return current_app.url_map.bind("").build("auth.member", {"user_id": user.id})


def normalise_tag(name):
    name = unicodedata.normalize("NFKC", (name or "").strip().lower()).replace(" ", "-")
    if not _TAG.match(name):
        raise Invalid(fields={"tags": _l("Tags are 1 to 30 letters, digits or - . + #.")})
    return name


def resolve_tags(user, names):
    """Existing tags by name; unknown ones are created (in the current transaction) only by those who may."""
    wanted = list(dict.fromkeys(normalise_tag(n) for n in names if n and n.strip()))
    if len(wanted) > TAGS_MAX:
        raise Invalid(fields={"tags": _l("Use at most %(n)d tags.", n=TAGS_MAX)})
    existing = {t.name: t for t in db.session.scalars(sa.select(Tag).where(Tag.name.in_(wanted)))} if wanted else {}
    missing = [name for name in wanted if name not in existing]
    if missing:
        if not can(user, Permission.CREATE_TAGS):
            level = level_named(level_required(Permission.CREATE_TAGS))
            raise Invalid("tag_unknown", fields={"tags": _l(
                "These tags don't exist yet: %(tags)s. Members can create tags from the %(level)s level on.",
                tags=", ".join(missing), level=level.label)})
        for name in missing:
            existing[name] = Tag(name=name, created_by_id=user.id)
            db.session.add(existing[name])
    return [existing[name] for name in wanted]
