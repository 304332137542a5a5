"""@handles: every account gets a unique username when it is first saved."""
import re
import secrets
import unicodedata

import sqlalchemy as sa
from sqlalchemy import event

from ..extensions import db

USERNAME_MAX = 30
_ALLOWED = re.compile(r"[^\w.-]", re.UNICODE)


def username_base(name, email):
    """A readable handle: the email's local part, else the display name, cleaned."""
    local = (email or "").partition("@")[0]
    for candidate in (local, name or ""):
        text = unicodedata.normalize("NFKC", candidate).strip().lower().replace(" ", ".")
        text = _ALLOWED.sub("", text).strip(".-_")[:USERNAME_MAX - 4]
        if len(text) >= 2:
            return text
    return "member"


def _taken_like(session, base):
    from .models import User

    rows = session.scalars(sa.select(User.username).where(User.username.like(f"{base}%"))).all()
    return set(rows)


def unique_username(session, name, email, reserved):
    base = username_base(name, email)
    taken = _taken_like(session, base) | reserved
    candidate, n = base, 1
    while candidate in taken:
        n += 1
        candidate = f"{base}{n}"
    reserved.add(candidate)
    return candidate


def clash_free_username(name, email):
    """A handle with a random number, for when the readable one was taken by a sign-up at the same moment."""
    return f"{username_base(name, email)}{secrets.randbelow(10_000)}"


def init_app(app):
    if not event.contains(db.session, "before_flush", assign_usernames):
        event.listen(db.session, "before_flush", assign_usernames)


def assign_usernames(session, flush_context, instances):
    from .models import User

    new_users = [obj for obj in session.new if isinstance(obj, User) and not obj.username]
    if not new_users:
        return
    reserved = set()
    with session.no_autoflush:
        for user in new_users:
            user.username = unique_username(session, user.name, user.email, reserved)
