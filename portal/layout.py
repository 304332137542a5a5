"""What every page's layout needs: language, the bell, the staff menu."""
from flask import current_app, g, has_request_context, request, url_for
from flask_babel import get_locale, lazy_pgettext
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from .errors import API_PREFIX
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


def layout_globals():
    if not has_request_context():  # mail rendered by the CLI or the outbox worker: no page, no reader
        return {"community_name": current_app.config["COMMUNITY_NAME"]}
    signed_in = current_user.is_authenticated
    return {
        "unread_notifications": notices_for(current_user).unread_notifications if signed_in else 0,
        "staff_menu": staff_menu(current_user) if signed_in else [],
        "languages": current_app.config["LANGUAGES"],
        "current_locale": str(get_locale()),
        "community_name": current_app.config["COMMUNITY_NAME"],
        "request_id": g.get("request_id"),
        # Visitors switch language with a GET (it only touches their session), which keeps
        # their pages free of per-visitor CSRF tokens and so cacheable; members save it with a POST.
        "language_switch_method": "post" if signed_in else "get",
    }
