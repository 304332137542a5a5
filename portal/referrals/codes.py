"""Referral codes and the cookies that carry them.

Every member's `User.referral_code` is their share link `/r/<code>`. Landing
on it sets a signed attribution cookie for REFERRAL_COOKIE_DAYS; registering
from that browser while it is valid credits the code's owner. The device
cookie is a random id per browser: besides the address, the only fingerprint
the self-referral rules compare.
"""
import re
import secrets

import sqlalchemy as sa
from flask import current_app, request
from flask_babel import lazy_gettext as _l
from itsdangerous import BadSignature, URLSafeTimedSerializer

from ..auth.models import User, UserStatus
from ..errors import Invalid, NotFound
from ..extensions import db
from ..urls import public_url
from .models import ReferralSource

CODE_MAX = 16
ATTRIBUTION_COOKIE = "th_ref"
DEVICE_COOKIE = "th_device"
DEVICE_COOKIE_DAYS = 730
_DEVICE_ID = re.compile(r"[A-Za-z0-9_-]{16,64}")


# -- codes ------------------------------------------------------------------------------------

def referrer_for_code(code):
    """The active member who owns `code`; NotFound for an unknown code or a suspended or deleted owner."""
    code = (code or "").strip()
    referrer = None
    if 0 < len(code) <= CODE_MAX:
        referrer = db.session.scalar(sa.select(User).where(User.referral_code == code))
    if referrer is None or referrer.status != UserStatus.ACTIVE:
        raise NotFound("unknown_referral_code", _l("This invitation link doesn't lead anywhere."))
    return referrer


def check_typed_code(code):
    """A code typed at sign-up, stripped; None when empty; Invalid on `referral_code` when nobody owns it.

    Writes nothing, so registration can call it before it writes anything.
    """
    code = (code or "").strip()
    if not code:
        return None
    try:
        referrer_for_code(code)
    except NotFound:
        raise Invalid("unknown_referral_code", fields={"referral_code": _l(
            "No member has this referral code. Check it, or leave the field empty.")}) from None
    return code


def share_link(user):
    """The member's share link, absolute, for emails, the API and the copy button."""
    return public_url("referrals.landing", code=user.referral_code)


# -- the attribution cookie ---------------------------------------------------------------------

def _serializer():
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="referral-attribution")


def _cookie_seconds():
    return current_app.config["REFERRAL_COOKIE_DAYS"] * 86400


def remember_attribution(response, code):
    """Let `response` set the signed cookie saying this browser came through `code`'s link."""
    response.set_cookie(ATTRIBUTION_COOKIE, _serializer().dumps(code), max_age=_cookie_seconds(),
                        httponly=True, samesite="Lax", secure=current_app.config["SESSION_COOKIE_SECURE"])
    return response


def forget_attribution(response):
    response.delete_cookie(ATTRIBUTION_COOKIE, httponly=True, samesite="Lax")
    return response


def attributed_code():
    """The code of the link this browser landed on within REFERRAL_COOKIE_DAYS, while its owner may refer.

    A tampered, expired or stale cookie counts as no cookie: the visitor never typed it.
    """
    raw = request.cookies.get(ATTRIBUTION_COOKIE)
    if not raw:
        return None
    try:
        code = _serializer().loads(raw, max_age=_cookie_seconds())
        referrer_for_code(code)
    except (BadSignature, NotFound, TypeError):
        return None
    return code


def signup_referral(typed_code):
    """(code, source) for a sign-up in the browser: the typed code, else the link's cookie, else (None, None)."""
    if (typed_code or "").strip():
        return typed_code, ReferralSource.CODE
    code = attributed_code()
    return (code, ReferralSource.LINK) if code else (None, None)


# -- the device cookie --------------------------------------------------------------------------

def device_id():
    """This browser's device id, or None when it has none (yet) or sent something malformed."""
    value = request.cookies.get(DEVICE_COOKIE, "")
    return value if _DEVICE_ID.fullmatch(value) else None


def give_device_id(response):
    """Set a new random device id on `response` unless the browser already has one."""
    if device_id() is None:
        response.set_cookie(DEVICE_COOKIE, secrets.token_urlsafe(18), max_age=DEVICE_COOKIE_DAYS * 86400,
                            httponly=True, samesite="Lax", secure=current_app.config["SESSION_COOKIE_SECURE"])
    return response
