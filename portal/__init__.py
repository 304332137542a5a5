"""Teahouse: a customer community portal that feeds the company's CRM."""
from urllib.parse import urlsplit

from flask import Flask, current_app, has_request_context, request, session
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.routing import IntegerConverter

from . import inputs, outbox, slots
from .config import BASE_DIR, INSTANCE_DIR, Config
from .errors import register_error_handlers
from .extensions import babel, cache, csrf, db, limiter, login_manager, mail, migrate, socketio
from .security import add_security_headers
from .sqltypes import MAX_ID


def create_app(config=None):
    app = Flask(
        __name__,
        template_folder=str(BASE_DIR / "templates"),
        static_folder=str(BASE_DIR / "static"),
        instance_path=str(INSTANCE_DIR),
    )
    app.config.from_object(Config)
    if config:
        app.config.update(config)
    if app.config["TRUSTED_HOSTS"] is None:
        app.config["TRUSTED_HOSTS"] = [urlsplit(app.config["PUBLIC_URL"]).hostname, "localhost", "127.0.0.1"]
    if app.config["TRUSTED_PROXIES"]:
        n = app.config["TRUSTED_PROXIES"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=n, x_proto=n, x_host=n)

    inputs.init_app(app)  # first: hostile input is refused before any other hook touches the database
    _init_extensions(app)
    _init_features(app)
    app.url_map.converters["int"] = IdConverter
    _register_blueprints(app)
    register_error_handlers(app)
    app.after_request(add_security_headers)
    slots.init_app(app)  # after the other hooks, so it runs first: they see the filled page
    _register_template_helpers(app)
    _register_cli(app)
    return app


class IdConverter(IntegerConverter):
    """<int:...> in URLs: ids fit a 32-bit column, so a larger number is simply not found."""

    def __init__(self, map, *args, **kwargs):
        kwargs.setdefault("max", MAX_ID)
        super().__init__(map, *args, **kwargs)


def _import_models():
    # Every model module, so the metadata (and migrations) see all tables. Importing wires nothing:
    # each feature connects its subscribers and outbox handlers in its own init_app (_init_features).
    from .audit import AuditEntry  # noqa: F401
    from .auth import models as _auth  # noqa: F401
    from .community import models as _community  # noqa: F401
    from .crm import models as _crm  # noqa: F401
    from .events import Activity  # noqa: F401
    from .leads import models as _leads  # noqa: F401
    from .moderation import models as _moderation  # noqa: F401
    from .notifications import models as _notifications  # noqa: F401
    from .outbox import OutboxMessage  # noqa: F401
    from .referrals import models as _referrals  # noqa: F401
    from .rewards import models as _rewards  # noqa: F401
    from .settings import Setting  # noqa: F401
    from .webhooks import models as _webhooks  # noqa: F401


def _init_extensions(app):
    _import_models()
    db.init_app(app)
    migrate.init_app(app, db, directory=str(BASE_DIR / "migrations"), render_as_batch=True)
    csrf.init_app(app)
    mail.init_app(app)
    cache.init_app(app)
    limiter.init_app(app)
    babel.init_app(app, locale_selector=select_locale, timezone_selector=select_timezone)
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = _l("Please sign in to see that page.")
    login_manager.login_message_category = "info"
    login_manager.user_loader(load_user)
    socketio.init_app(app, message_queue=app.config["SOCKETIO_MESSAGE_QUEUE"], async_mode="threading")
    outbox.init_app(app)


def _init_features(app):
    """Each feature wires itself: its subscribers on the activity spine, its outbox handlers, its hooks."""
    from . import (
        auth,
        community,
        crm,
        emails,
        leads,
        moderation,
        notices,
        notifications,
        referrals,
        rewards,
        webhooks,
    )

    for feature in (auth, emails, community, crm, leads, moderation, notifications, notices, referrals, rewards,
                    webhooks):
        feature.init_app(app)


def load_user(login_id):
    from .auth.sessions import user_for_login_id

    return user_for_login_id(login_id)


def select_locale():
    if not has_request_context():
        return None  # CLI and background work: the default locale, or force_locale()
    languages = current_app.config["LANGUAGES"]
    # The language chosen in this browser's footer wins, also after signing in: a visitor who picked
    # Chinese keeps it. Saving the profile's language sets this browser's choice too (auth.views.profile).
    if session.get("locale") in languages:
        return session["locale"]
    if current_user.is_authenticated and current_user.locale in languages:
        return current_user.locale
    return request.accept_languages.best_match(list(languages)) or "en"


def select_timezone():
    if has_request_context() and current_user.is_authenticated:
        return current_user.timezone
    return None


def _register_blueprints(app):
    from .admin.views import bp as admin_bp
    from .api import bp as api_bp
    from .auth.views import bp as auth_bp
    from .community.category_views import bp as categories_bp
    from .community.views import bp as community_bp
    from .crm.announcement_views import bp as announcements_bp
    from .crm.announcement_views import member_bp as member_announcements_bp
    from .crm.report_views import bp as reports_bp
    from .crm.retention_views import bp as retention_bp
    from .crm.segment_views import bp as segments_bp
    from .crm.views import account_bp as company_bp
    from .crm.views import bp as crm_bp
    from .crm.views import staff_bp
    from .leads.views import bp as leads_bp
    from .moderation.standing import bp as standing_bp
    from .moderation.views import bp as moderation_bp
    from .notifications.views import bp as notifications_bp
    from .referrals.views import bp as referrals_bp
    from .rewards.views import bp as rewards_bp
    from .webhooks.views import bp as webhooks_bp

    app.register_blueprint(community_bp)
    app.register_blueprint(categories_bp)
    app.register_blueprint(auth_bp)
    app.register_blueprint(notifications_bp)
    app.register_blueprint(rewards_bp)
    app.register_blueprint(referrals_bp)
    app.register_blueprint(moderation_bp, url_prefix="/moderation")
    app.register_blueprint(standing_bp)
    app.register_blueprint(staff_bp, url_prefix="/staff")
    app.register_blueprint(company_bp, url_prefix="/account/company")
    app.register_blueprint(crm_bp, url_prefix="/staff/customers")
    app.register_blueprint(segments_bp, url_prefix="/staff/segments")
    app.register_blueprint(retention_bp, url_prefix="/staff/retention")
    app.register_blueprint(announcements_bp, url_prefix="/staff/announcements")
    app.register_blueprint(member_announcements_bp)
    app.register_blueprint(reports_bp, url_prefix="/staff/reports")
    app.register_blueprint(leads_bp, url_prefix="/sales")
    app.register_blueprint(admin_bp, url_prefix="/admin")
    app.register_blueprint(webhooks_bp, url_prefix="/admin/webhooks")
    app.register_blueprint(api_bp, url_prefix="/api/v1")
    csrf.exempt(api_bp)  # the API authenticates by bearer token only, never by cookie


def _register_template_helpers(app):
    from .layout import layout_globals

    app.context_processor(layout_globals)


def _register_cli(app):
    from .cli import register_commands

    register_commands(app)
