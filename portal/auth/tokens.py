"""API bearer tokens: issued once, stored hashed, revocable."""
import hashlib
import secrets
from datetime import timedelta

import sqlalchemy as sa
from flask import current_app
from flask_babel import gettext as _

from ..audit import audit
from ..errors import Invalid, NotFound
from ..extensions import db
from ..permissions import Permission, can
from ..sqltypes import utcnow
from .models import ApiToken, User

TOKEN_PREFIX = "th_"


def _digest(raw):
    return hashlib.sha256(raw.encode()).hexdigest()


def issue_token(user, name="API", *, created_by=None):
    """Create a token for `user`; returns (raw token, ApiToken). Not committed."""
    name = (name or "").strip() or "API"
    if len(name) > 80:
        raise Invalid(fields={"name": _("Keep the name to %(n)d characters.", n=80)})
    raw = TOKEN_PREFIX + secrets.token_urlsafe(32)
    days = current_app.config["API_TOKEN_DAYS"]
    token = ApiToken(
        user_id=user.id, name=name, token_hash=_digest(raw), prefix=raw[:10],
        created_by_id=created_by.id if created_by else user.id,
        expires_at=utcnow() + timedelta(days=days) if days else None,
    )
    db.session.add(token)
    if created_by is not None and created_by.id != user.id:
        db.session.flush()
        audit(created_by, "api_token.created", token, user_id=user.id, name=name)
    return raw, token


def user_for_bearer(header):
    """The active user behind an `Authorization: Bearer` header, or None."""
    scheme, _sep, raw = (header or "").partition(" ")
    if scheme.lower() != "bearer" or not raw.startswith(TOKEN_PREFIX):
        return None
    token = db.session.scalar(
        sa.select(ApiToken).where(ApiToken.token_hash == _digest(raw.strip()))
    )
    now = utcnow()
    if token is None or not token.is_usable(now) or not token.user.is_active:
        return None
    # Written at most once a minute per token, not on every call.
    if token.last_used_at is None or now - token.last_used_at > timedelta(minutes=1):
        token.last_used_at = now
        db.session.commit()
    return token.user


def revoke_tokens_of(user):
    """Revoke every live token of `user` for good (suspension, deletion). Not committed."""
    db.session.execute(sa.update(ApiToken).where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
                       .values(revoked_at=utcnow()))


def tokens_visible_to(user):
    query = sa.select(ApiToken).order_by(ApiToken.created_at.desc())
    if not can(user, Permission.MANAGE_TOKENS):
        query = query.where(ApiToken.user_id == user.id)
    return query


def revoke_token(actor, token_id):
    """Revoke one of your own tokens, or anyone's with MANAGE_TOKENS."""
    token = db.session.get(ApiToken, token_id)
    if token is None or (token.user_id != actor.id and not can(actor, Permission.MANAGE_TOKENS)):
        raise NotFound()
    if token.revoked_at is None:
        token.revoked_at = utcnow()
        if token.user_id != actor.id:
            audit(actor, "api_token.revoked", token, user_id=token.user_id)
        db.session.commit()
    return token


def create_token_for(actor, user_id, name):
    """An admin creates a token for any user; audited; committed."""
    user = db.session.get(User, user_id)
    if user is None:
        raise NotFound()
    raw, token = issue_token(user, name, created_by=actor)
    db.session.commit()
    return raw, token
