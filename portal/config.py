"""Every setting Teahouse reads, from environment variables, in one place.

`create_app(config)` starts from `Config`, then applies the mapping it is
given (tests pass their overrides this way). Nothing else reads os.environ.
"""
import os
import secrets
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
INSTANCE_DIR = Path(os.environ.get("INSTANCE_DIR", BASE_DIR / "instance"))


def _flag(name, default):
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _int(name, default):
    return int(os.environ.get(name, default))


def _list(name):
    return [item.strip() for item in os.environ.get(name, "").split(",") if item.strip()]


def _secret_key():
    """SECRET_KEY from the environment, else one generated once per instance.

    A key kept in instance/ means a fresh clone never ships a secret and
    sessions survive restarts of `make run`.
    """
    if key := os.environ.get("SECRET_KEY"):
        return key
    path = INSTANCE_DIR / "secret_key"
    if not path.exists():
        INSTANCE_DIR.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_hex(32))
        path.chmod(0o600)
    return path.read_text().strip()


class Config:
    SECRET_KEY = _secret_key()
    SQLALCHEMY_DATABASE_URI = os.environ.get(
        "DATABASE_URL", f"sqlite:///{INSTANCE_DIR / 'teahouse.db'}"
    )
    SQLALCHEMY_ENGINE_OPTIONS = {"pool_pre_ping": True}

    # Every absolute link (mail, the API, share links) is built from this address, never from
    # the request's Host header. Requests for other hosts are refused with 400: TRUSTED_HOSTS,
    # when unset, is PUBLIC_URL's host plus localhost and 127.0.0.1 (see create_app).
    PUBLIC_URL = os.environ.get("PUBLIC_URL", "http://127.0.0.1:5000").rstrip("/")
    TRUSTED_HOSTS = _list("TRUSTED_HOSTS") or None
    # Request bodies beyond this many bytes answer 413.
    MAX_CONTENT_LENGTH = _int("MAX_CONTENT_LENGTH", 1024 * 1024)
    SEARCH_INDEX_DIR = os.environ.get("SEARCH_INDEX_DIR", str(INSTANCE_DIR / "search"))
    REDIS_URL = os.environ.get("REDIS_URL")
    SOCKETIO_MESSAGE_QUEUE = os.environ.get("SOCKETIO_MESSAGE_QUEUE")

    # Outbox: "inline" drains after each commit (embedded default); "worker"
    # leaves it to `flask outbox worker` (scale-out).
    OUTBOX_MODE = os.environ.get("OUTBOX_MODE", "inline")
    OUTBOX_MAX_ATTEMPTS = _int("OUTBOX_MAX_ATTEMPTS", 8)
    # Inline mode: each server process also drains what is due on start and every this many seconds (0: never).
    OUTBOX_POLL_SECONDS = float(os.environ.get("OUTBOX_POLL_SECONDS", 30))
    # The UTC hour of the nightly CRM run (tiers, lifecycle rules, engagement, churn risk, retention).
    CRM_NIGHTLY_HOUR = _int("CRM_NIGHTLY_HOUR", 3)
    # The UTC hour of the leads' daily run (neglected leads back to the pool, record-based signals, decay).
    LEADS_DAILY_HOUR = _int("LEADS_DAILY_HOUR", 4)
    # The UTC hour the moderators' daily digest of review items older than a day is mailed.
    MODERATION_DIGEST_HOUR = _int("MODERATION_DIGEST_HOUR", 7)

    # Page cache for anonymous readers: in-process by default, Redis when REDIS_URL is set.
    CACHE_TYPE = os.environ.get("CACHE_TYPE", "RedisCache" if os.environ.get("REDIS_URL") else "SimpleCache")
    CACHE_REDIS_URL = os.environ.get("REDIS_URL")
    CACHE_DEFAULT_TIMEOUT = _int("CACHE_DEFAULT_TIMEOUT", 300)
    # The in-process cache's size in entries (visitors' pages and post cards, portal/community/cards.py).
    CACHE_THRESHOLD = _int("CACHE_THRESHOLD", 20000)
    CACHE_KEY_PREFIX = os.environ.get("CACHE_KEY_PREFIX", "teahouse:")

    RATELIMIT_ENABLED = _flag("RATELIMIT_ENABLED", True)
    RATELIMIT_STORAGE_URI = os.environ.get(
        "RATELIMIT_STORAGE_URI", os.environ.get("REDIS_URL", "memory://")
    )
    RATELIMIT_HEADERS_ENABLED = True
    LOGIN_RATE_LIMIT = os.environ.get("LOGIN_RATE_LIMIT", "10 per minute;50 per hour")
    # Failed sign-ins per account, from any address: slows guessing one member's password.
    LOGIN_ACCOUNT_RATE_LIMIT = os.environ.get("LOGIN_ACCOUNT_RATE_LIMIT", "10 per 15 minutes;30 per day")
    REGISTER_RATE_LIMIT = os.environ.get("REGISTER_RATE_LIMIT", "5 per minute;20 per hour")
    PASSWORD_RESET_RATE_LIMIT = os.environ.get("PASSWORD_RESET_RATE_LIMIT", "5 per hour")

    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = _flag("SESSION_COOKIE_SECURE", False)
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    REMEMBER_COOKIE_SECURE = SESSION_COOKIE_SECURE
    REMEMBER_COOKIE_DURATION = _int("REMEMBER_COOKIE_DAYS", 30) * 86400
    # Number of proxies in front of the app whose X-Forwarded-* headers we trust.
    TRUSTED_PROXIES = _int("TRUSTED_PROXIES", 0)

    PASSWORD_RESET_MAX_AGE = _int("PASSWORD_RESET_MAX_AGE", 3600)
    API_TOKEN_DAYS = _int("API_TOKEN_DAYS", 90)
    # Webhooks go only to public addresses; on, they may go to private and loopback ones too (development, tests).
    WEBHOOKS_ALLOW_PRIVATE_TARGETS = _flag("WEBHOOKS_ALLOW_PRIVATE_TARGETS", False)

    MAIL_BACKEND = os.environ.get("MAIL_BACKEND", "file")
    MAIL_FILE_PATH = os.environ.get("MAIL_FILE_PATH", str(INSTANCE_DIR / "mail"))
    MAIL_SERVER = os.environ.get("MAIL_SERVER", "localhost")
    MAIL_PORT = _int("MAIL_PORT", 25)
    MAIL_USERNAME = os.environ.get("MAIL_USERNAME")
    MAIL_PASSWORD = os.environ.get("MAIL_PASSWORD")
    MAIL_USE_TLS = _flag("MAIL_USE_TLS", False)
    MAIL_USE_SSL = _flag("MAIL_USE_SSL", False)
    MAIL_DEFAULT_SENDER = os.environ.get("MAIL_DEFAULT_SENDER", "Teahouse <community@teahouse.example>")

    BABEL_DEFAULT_LOCALE = "en"
    BABEL_DEFAULT_TIMEZONE = "UTC"
    LANGUAGES = {"en": "English", "zh": "简体中文"}
    COMMUNITY_NAME = os.environ.get("COMMUNITY_NAME", "Teahouse")

    # Community rules.
    NEW_ACCOUNT_HOURS = _int("NEW_ACCOUNT_HOURS", 24)
    NEW_ACCOUNT_MAX_TOPICS = _int("NEW_ACCOUNT_MAX_TOPICS", 3)
    NEW_ACCOUNT_MAX_REPLIES = _int("NEW_ACCOUNT_MAX_REPLIES", 10)
    FLAGS_TO_HIDE = _int("FLAGS_TO_HIDE", 3)
    TOPICS_PER_PAGE = _int("TOPICS_PER_PAGE", 30)
    POSTS_PER_PAGE = _int("POSTS_PER_PAGE", 20)
    TAG_CREATE_MIN_LEVEL = _int("TAG_CREATE_MIN_LEVEL", 3)
    POINTS_DAILY_VOTE_CAP = _int("POINTS_DAILY_VOTE_CAP", 200)
    SEED_DEMO = _flag("SEED_DEMO", False)

    # Customer records.
    CUSTOMER_IMPORT_PROGRESS_EVERY = _int("CUSTOMER_IMPORT_PROGRESS_EVERY", 250)
    CUSTOMER_VERIFY_EVERY_DAYS = _int("CUSTOMER_VERIFY_EVERY_DAYS", 365)
    # Contact cadence: a customer of each tier untouched this many days goes on the owner's list (0: never).
    CONTACT_CADENCE_DAYS = {"key": _int("CONTACT_CADENCE_KEY_DAYS", 30),
                            "valued": _int("CONTACT_CADENCE_VALUED_DAYS", 60),
                            "standard": _int("CONTACT_CADENCE_STANDARD_DAYS", 0)}

    # Referrals.
    REFERRAL_COOKIE_DAYS = _int("REFERRAL_COOKIE_DAYS", 30)
    REFERRAL_INVITES_PER_DAY = _int("REFERRAL_INVITES_PER_DAY", 20)
    REFERRAL_SIGNUPS_PER_CODE_PER_DAY = _int("REFERRAL_SIGNUPS_PER_CODE_PER_DAY", 5)
    REFERRAL_FRAUD_WINDOW_DAYS = _int("REFERRAL_FRAUD_WINDOW_DAYS", 30)
