"""What every page's layout needs: language, and the signed-in reader's header (the bell, the staff menu)."""
import hashlib

from flask import current_app, g, get_template_attribute, has_request_context, request, url_for
from flask_babel import get_locale, lazy_pgettext
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf.csrf import generate_csrf
from markupsafe import escape

from . import slots
from .errors import API_PREFIX
from .extensions import cache
from .notices import notices_for
from .permissions import Permission

# (permission needed, endpoint, label): later features add their staff pages here.
STAFF_PAGES = (
    (Permission.VIEW_CUSTOMERS, "staff.home", _l("Staff home")),
    (Permission.VIEW_CUSTOMERS, "crm.customers", lazy_pgettext("staff", "Customers")),
    (Permission.MANAGE_SEGMENTS, "segments.index", _l("Segments")),
    (Permission.MANAGE_SEGMENTS, "retention.index", _l("Retention")),
    (Permission.MANAGE_SEGMENTS, "announcements.index", _l("Announcements")),
    (Permission.MANAGE_SEGMENTS, "reports.index", _l("Reports")),
    (Permission.MODERATE, "moderation.queue", _l("Review queue")),
    (Permission.MODERATE, "categories.manage", _l("Categories")),
    (Permission.MODERATE, "moderation.linked_accounts", _l("Linked accounts")),
    (Permission.MANAGE_USERS, "admin.users", _l("Administration")),
    (Permission.MANAGE_SETTINGS, "admin.reward_settings", _l("Points & levels")),
    (Permission.MANAGE_SETTINGS, "admin.crm_settings", _l("Customer rules")),
    (Permission.MANAGE_SETTINGS, "admin.lead_settings", _l("Lead rules")),
    (Permission.MANAGE_SETTINGS, "admin.moderation_settings", _l("Moderation rules")),
    (Permission.VIEW_AUDIT_LOG, "admin.audit_log", _l("Audit log")),
    (Permission.VIEW_ANALYTICS, "referrals.staff_funnel", _l("Referrals")),
)


def is_page_request():
    """Whether this request is for a page: not a static file, not the API, not an unknown URL."""
    return request.endpoint not in (None, "static") and not request.path.startswith(API_PREFIX)


def staff_menu(user):
    """The staff pages `user` may open, for the user menu."""
    return [{"url": url_for(endpoint), "label": label}
            for permission, endpoint, label in STAFF_PAGES if user.can(permission)]


@slots.filler("member-nav")
def _fill_member_nav(arguments):
    """The header's bell and user menu: the reader's own, so a cached page can carry anyone's. Cached per
    member, count of unread notifications, name, role (their staff menu) and language."""
    user = current_user._get_current_object()  # (read a dozen times below)
    unread = notices_for(user).unread_notifications
    name = hashlib.blake2b(user.name.encode(), digest_size=8).hexdigest()
    key = f"member-nav:{user.id}:{user.role}:{unread}:{name}:{get_locale()}"
    nav = cache.get(key)
    if nav is None:
        render = get_template_attribute("_layout.html", "member_nav")
        with slots.shared_render():  # the sign-out form's CSRF token, filled in below
            nav = str(render(user, unread, staff_menu(user)))
        cache.set(key, nav)
    return {"": nav.replace(slots.slot("csrf"), generate_csrf())}


@slots.filler("member-name")
def _fill_member_name(arguments):
    return {"": str(escape(current_user.name))}


def layout_globals():
    if not has_request_context():  # mail rendered by the CLI or the outbox worker: no page, no reader
        return {"community_name": current_app.config["COMMUNITY_NAME"]}
    signed_in = current_user.is_authenticated
    return {
        "languages": current_app.config["LANGUAGES"],
        "current_locale": str(get_locale()),
        "community_name": current_app.config["COMMUNITY_NAME"],
        "request_id": g.get("request_id"),
        # Visitors switch language with a GET (it only touches their session), which keeps
        # their pages free of per-visitor CSRF tokens and so cacheable; members save it with a POST.
        "language_switch_method": "post" if signed_in else "get",
    }
