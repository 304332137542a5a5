"""Rate limits on account actions: one bucket per action and client, whether it comes by form or API.

Each limit is a shared limit (one scope), applied to the web view and to the
API endpoint alike, so ten tries at the sign-in form and ten at
`POST /api/v1/tokens` are ten tries, not twenty. Failed sign-ins are also
counted per account, whatever address they come from. The storage is
RATELIMIT_STORAGE_URI: Redis when REDIS_URL is set, so every process counts
into the same buckets.
"""
from flask import current_app, request
from flask_limiter.util import get_remote_address

from ..extensions import limiter


def _setting(name):
    return lambda: current_app.config[name]


def _account_key():
    """The account a sign-in names: the email of the form or the JSON body, normalised loosely."""
    body = request.get_json(silent=True) if request.is_json else request.form
    email = body.get("email") if hasattr(body, "get") else None
    return f"account:{email.strip().lower()}" if isinstance(email, str) and email.strip() else get_remote_address()


def _failed(response):
    return response.status_code in (401, 422)


sign_in = limiter.shared_limit(_setting("LOGIN_RATE_LIMIT"), scope="sign-in", methods=["POST"])
failed_sign_ins_per_account = limiter.shared_limit(
    _setting("LOGIN_ACCOUNT_RATE_LIMIT"), scope="sign-in-account", key_func=_account_key, methods=["POST"],
    deduct_when=_failed)
registration = limiter.shared_limit(_setting("REGISTER_RATE_LIMIT"), scope="registration", methods=["POST"])
password_reset = limiter.shared_limit(_setting("PASSWORD_RESET_RATE_LIMIT"), scope="password-reset",
                                      methods=["POST"])
