"""The JSON API under /api/v1: bearer tokens only, errors as {"error": {...}}."""
from flask import Blueprint, g, request

from ..auth.tokens import user_for_bearer
from ..extensions import login_manager

bp = Blueprint("api", __name__)


@bp.before_request
def authenticate_bearer():
    # The API never trusts the session cookie (it is exempt from CSRF), so the
    # user for this request is decided here, before flask-login looks at the
    # session: the token's user, or anonymous.
    user = user_for_bearer(request.headers.get("Authorization"))
    g._login_user = user or login_manager.anonymous_user()


# The routes register themselves on bp as their modules load.
from . import (  # noqa: E402,F401
    accounts,
    audit,
    community,
    customers,
    leads,
    moderation,
    notifications,
    openapi,
    posts,
    referrals,
    rewards,
    segments,
    topics,
    webhooks,
)
