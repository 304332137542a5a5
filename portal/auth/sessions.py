"""Sign-in sessions kept on the server, so ending one is real.

Flask's session is a signed cookie: a copy saved before logout would still
open the account. Each sign-in is therefore a `LoginSession` row, and the
login id in the session cookie and the remember-me cookie is
"<user id>:<secret>", whose hash names that row. Signing out ends the row;
a password change ends the user's other rows; suspension, a password reset
and account deletion end them all. A cookie whose row has ended opens nothing.
"""
import hashlib
import secrets

import sqlalchemy as sa
from flask import g, has_request_context, request
from flask_login import login_user, logout_user

from ..events import Verb, record_activity
from ..extensions import db
from ..sqltypes import utcnow
from .models import LoginSession, User, UserStatus


def _digest(secret):
    return hashlib.sha256(secret.encode()).hexdigest()


def start_login_session(user):
    """A new server-side session for `user`; sets `user.login_id` for flask-login. Not committed."""
    secret = secrets.token_urlsafe(32)
    user_agent = request.user_agent.string[:200] if has_request_context() else ""
    db.session.add(LoginSession(user_id=user.id, token_hash=_digest(secret), user_agent=user_agent))
    user.login_id = f"{user.id}:{secret}"
    return user


def sign_in(user, *, remember=False):
    """Start a session for `user` in this browser and note the sign-in; committed."""
    start_login_session(user)
    record_login(user)
    login_user(user, remember=remember)


def record_login(user):
    """Note a successful sign-in (a browser's, or a token's over the API); committed."""
    user.last_login_at = utcnow()
    record_activity(Verb.LOGGED_IN, actor=user, obj=user)
    db.session.commit()


def sign_out(user):
    """End this browser's session on the server, then forget it in the browser; committed."""
    if user.is_authenticated:
        _end(LoginSession.token_hash == _digest(_secret_of(user.login_id)))
        record_activity(Verb.LOGGED_OUT, actor=user, obj=user)
        db.session.commit()
    logout_user()


def end_sessions(user, *, keep_current=False):
    """End every session of `user` (but this browser's with `keep_current`). Not committed."""
    condition = LoginSession.user_id == user.id
    if keep_current and getattr(user, "login_id", None):
        condition = sa.and_(condition, LoginSession.token_hash != _digest(_secret_of(user.login_id)))
    _end(condition)


def _end(condition):
    db.session.execute(sa.update(LoginSession).where(condition, LoginSession.ended_at.is_(None))
                       .values(ended_at=utcnow()))


def _secret_of(login_id):
    return (login_id or "").partition(":")[2]


# Other features' per-member figures read in the same statement as the session's user (read_with_user).
_READ_WITH_USER = {}
_session_user = None  # the statement, built on first use, once every feature has said what it reads with it


def read_with_user(name, column):
    """Have `column` (a scalar subquery, which may refer to `User.id`) read in the statement that loads a
    signed-in request's user: every page a member opens reads their user anyway, so a figure each of their pages
    needs costs no statement of its own. Its value is `read_along(name)` afterwards. Call it at import time."""
    if _session_user is not None:
        raise RuntimeError(f"{name!r} comes too late: the session's user is already read without it")
    _READ_WITH_USER[name] = column


NOT_READ = object()  # what read_along() answers for a figure that was not read with that user


def read_along(name, user=None):
    """What `read_with_user(name, ...)` read with this request's session user (its value may be None: no row),
    or NOT_READ: no user was read (a visitor, a token-signed API call, work outside a request) or, with `user`,
    the session's user is someone else."""
    read = g.get("read_with_user") if has_request_context() else None
    if read is None or (user is not None and read["user_id"] != getattr(user, "id", None)):
        return NOT_READ
    return read["values"][name]


def _session_user_statement():
    global _session_user
    if _session_user is None:
        _session_user = (
            sa.select(User, *(column.label(name) for name, column in _READ_WITH_USER.items()))
            .join(LoginSession, LoginSession.user_id == User.id)
            .where(User.id == sa.bindparam("user_id"), User.status == UserStatus.ACTIVE,
                   LoginSession.token_hash == sa.bindparam("token_hash"), LoginSession.ended_at.is_(None)))
    return _session_user


def user_for_login_id(login_id):
    """The active user whose live session `login_id` names, or None: flask-login's user loader."""
    user_id, _sep, secret = (login_id or "").partition(":")
    if not (user_id.isascii() and user_id.isdigit() and secret):
        return None
    row = db.session.execute(_session_user_statement(),
                             {"user_id": int(user_id), "token_hash": _digest(secret)}).first()
    if row is None:
        return None
    user, *along = row
    if has_request_context():
        g.read_with_user = {"user_id": user.id, "values": dict(zip(_READ_WITH_USER, along, strict=True))}
    user.login_id = login_id
    return user
