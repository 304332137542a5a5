"""HTTP security headers for every response."""
from flask import request, session
from flask_login import current_user

from .errors import API_PREFIX

CONTENT_SECURITY_POLICY = "; ".join([
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "font-src 'self'",
    "connect-src 'self' ws: wss:",
    "object-src 'none'",
    "base-uri 'self'",
    "form-action 'self'",
    "frame-ancestors 'none'",
])


def add_security_headers(response):
    headers = response.headers
    headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault("Referrer-Policy", "strict-origin-when-cross-origin")
    headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
    headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
    if request.is_secure:
        headers.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
    if _is_private(response):
        headers["Cache-Control"] = "no-store"
    return response


def _is_private(response):
    """Whether no cache may keep this response: the API, a signed-in reader's page, a new session cookie.

    Visitors' shared pages (the cached topic page, the category colours)
    keep the policy their views set.
    """
    if request.path.startswith(API_PREFIX) or session.modified:
        return True
    return request.endpoint != "static" and current_user.is_authenticated
