"""Fixtures: a fresh database per run, an app and client per test, users of each role.

The database is SQLite in a temporary folder unless TEST_DATABASE_URL names
a PostgreSQL server; then the run gets its own schema there, dropped at the
end, so runs never see each other's rows. Under CI=true an unreachable
PostgreSQL or Redis fails the run instead of skipping.
"""
import contextlib
import os
import re
import secrets
import tempfile
from pathlib import Path

import pytest
import sqlalchemy as sa

# Before the app is imported: keep the generated secret key and any files out of the repo.
os.environ.setdefault("INSTANCE_DIR", tempfile.mkdtemp(prefix="teahouse-instance-"))

from flask import has_app_context  # noqa: E402
from flask.testing import FlaskClient  # noqa: E402
from jinja2 import BytecodeCache  # noqa: E402
from werkzeug.routing import Rule  # noqa: E402
from werkzeug.security import generate_password_hash  # noqa: E402

from portal import create_app  # noqa: E402
from portal.auth.models import User  # noqa: E402
from portal.auth.sessions import start_login_session  # noqa: E402
from portal.extensions import db  # noqa: E402
from portal.permissions import Role  # noqa: E402
from portal.rewards.ledger import balance_mismatches  # noqa: E402

ON_CI = os.environ.get("CI", "").lower() == "true"


# Every test builds its own app (make_app). Most of that is compiling the same things for every app: each
# URL rule's builder (werkzeug writes and compiles Python for each) and each template. Both are kept for
# the run; what they compile to depends only on the rule and on the template's source.
class _RunBytecodeCache(BytecodeCache):
    def __init__(self):
        self.compiled = {}

    def load_bytecode(self, bucket):
        if bucket.key in self.compiled:
            bucket.bytecode_from_string(self.compiled[bucket.key])

    def dump_bytecode(self, bucket):
        self.compiled[bucket.key] = bucket.bytecode_to_string()


_TEMPLATES = _RunBytecodeCache()
_BUILDERS = {}
_compile_builder = Rule._compile_builder


def _builder_for_the_run(rule, append_unknown=True):
    # The builder takes the rule as its first argument and reads the rule's converters from it at call time.
    converters = tuple(sorted((name, type(converter).__name__) for name, converter in rule._converters.items()))
    key = (tuple(rule._trace), repr(sorted((rule.defaults or {}).items())), converters, append_unknown)
    if key not in _BUILDERS:
        _BUILDERS[key] = _compile_builder(rule, append_unknown)
    return _BUILDERS[key]


Rule._compile_builder = _builder_for_the_run
PASSWORD = "correct horse battery staple"
# Links in mail and the API come from here; test requests arrive for SERVER_NAME, another host.
PUBLIC_URL = "https://community.teahouse.test"
_PASSWORD_HASH = generate_password_hash(PASSWORD)


def _postgres_schema_url(base_url):
    schema = f"teahouse_test_{secrets.token_hex(4)}"
    engine = sa.create_engine(base_url)
    try:
        with engine.begin() as conn:
            conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    except sa.exc.OperationalError as exc:
        engine.dispose()
        if ON_CI:
            pytest.exit(f"PostgreSQL at TEST_DATABASE_URL is unreachable: {exc}", returncode=3)
        raise
    return engine, schema


@contextlib.contextmanager
def migrated_database():
    """(uri, engine options) of a new, migrated, empty database: SQLite in a temporary folder, or a schema of
    its own at TEST_DATABASE_URL, dropped afterwards."""
    base_url = os.environ.get("TEST_DATABASE_URL", "")
    if base_url.startswith("postgresql"):
        admin_engine, schema = _postgres_schema_url(base_url)
        options = {"connect_args": {"options": f"-csearch_path={schema}"}, "pool_pre_ping": True}
        uri = base_url
    else:
        admin_engine, schema = None, None
        folder = tempfile.mkdtemp(prefix="teahouse-test-")
        uri, options = f"sqlite:///{Path(folder) / 'test.db'}", {}
    app = create_app(_test_config(uri, options))
    with app.app_context():
        from flask_migrate import upgrade

        upgrade()
        db.engine.dispose()
    try:
        yield uri, options
    finally:
        if admin_engine is not None:
            with admin_engine.begin() as conn:
                conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
            admin_engine.dispose()


@pytest.fixture(scope="session")
def database():
    """(uri, engine options) of a migrated, empty database for this run."""
    with migrated_database() as found:
        yield found


def build_app(uri, options, **overrides):
    """An app for tests on the database at `uri`."""
    app = create_app({**_test_config(uri, options), **overrides})
    app.jinja_env.bytecode_cache = _TEMPLATES
    app.test_client_class = FreshContextClient
    return app


def _test_config(uri, options):
    return {
        "TESTING": True,
        "SQLALCHEMY_DATABASE_URI": uri,
        "SQLALCHEMY_ENGINE_OPTIONS": options,
        "WTF_CSRF_ENABLED": False,
        "RATELIMIT_ENABLED": False,
        "RATELIMIT_STORAGE_URI": "memory://",
        "MAIL_BACKEND": "locmem",
        "SERVER_NAME": "teahouse.test",
        "PUBLIC_URL": PUBLIC_URL,
        "TRUSTED_HOSTS": ["teahouse.test", "localhost", "127.0.0.1"],
        "OUTBOX_MODE": "inline",
        "OUTBOX_POLL_SECONDS": 0,  # no background drainer unless a test asks for one
    }


class FreshContextClient(FlaskClient):
    """A test client whose every request runs in its own app context, as in production.

    The `app` fixture keeps a context open for the test body; without this,
    Flask would reuse it for requests and share `g` (the signed-in user, the
    locale) and the database session between them. `app.test_client(user=u)`
    starts a real server-side login session for `u`, as signing in does.
    """

    def __init__(self, *args, user=None, fresh_login=True, **kwargs):
        super().__init__(*args, **kwargs)
        if user is not None:
            with self.application.app_context() if not has_app_context() else contextlib.nullcontext():
                start_login_session(user)
                db.session.commit()
            with self.session_transaction() as session:
                session["_user_id"], session["_fresh"] = user.login_id, fresh_login

    def open(self, *args, **kwargs):
        with self.application.app_context():
            response = super().open(*args, **kwargs)
        if has_app_context():  # the test body reads what the request wrote, not stale copies
            db.session.expire_all()
        return response


def _empty_all_tables():
    # DELETE, children first, not TRUNCATE: a test leaves most tables empty, and PostgreSQL's TRUNCATE of
    # 44 tables took 0.13 s where these DELETEs take 0.007 s; over 2,000 tests, four minutes of every run.
    # Foreign keys are not checked meanwhile (topics and posts point at each other).
    tables = list(reversed(db.metadata.sorted_tables))
    with db.engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.exec_driver_sql("SET LOCAL session_replication_role = replica")  # (the test server's superuser)
        else:
            conn.exec_driver_sql("PRAGMA defer_foreign_keys=ON")
        for table in tables:
            conn.execute(table.delete())
        if conn.dialect.name == "postgresql":  # ids start at 1 again, as in a new database
            conn.execute(sa.text("SELECT setval(format('%I.%I', schemaname, sequencename)::regclass, 1, false) "
                                 "FROM pg_sequences WHERE schemaname = current_schema()"))


@pytest.fixture
def make_app(database):
    """Build an app on the run's database with config overrides; tables emptied afterwards."""
    uri, options = database
    apps = []

    def build(**overrides):
        app = build_app(uri, options, **overrides)
        apps.append(app)
        return app

    yield build
    if apps:
        with apps[0].app_context():
            db.session.remove()
            mismatches = balance_mismatches()
            db.session.remove()  # end the check's transaction: TRUNCATE waits for every reader
            _empty_all_tables()
            db.engine.dispose()
        # After every test, whatever it did: each member's points equal the sum of their ledger.
        assert mismatches == [], f"cached points differ from the ledger: {mismatches}"


@pytest.fixture
def app(make_app):
    app = make_app()
    with app.app_context():
        yield app


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def outbox(app):
    """Emails sent through the locmem mail backend during the test."""
    state = app.extensions["mailman"]
    state.outbox = []
    return state.outbox


@pytest.fixture
def make_user(app):
    """Factory: an active user of any role, with the shared test password."""
    counter = iter(range(1, 10_000))

    def build(role=Role.MEMBER, **fields):
        n = next(counter)
        fields.setdefault("email", f"{role}{n}@example.com")
        fields.setdefault("name", f"{role.title().replace('_', ' ')} {n}")
        user = User(role=role, password_hash=_PASSWORD_HASH, **fields)
        db.session.add(user)
        db.session.commit()
        return user

    return build


@pytest.fixture
def member(make_user):
    return make_user(Role.MEMBER)


@pytest.fixture
def moderator(make_user):
    return make_user(Role.MODERATOR)


@pytest.fixture
def sales(make_user):
    return make_user(Role.SALES)


@pytest.fixture
def sales_manager(make_user):
    return make_user(Role.SALES_MANAGER)


@pytest.fixture
def admin(make_user):
    return make_user(Role.ADMIN)


@pytest.fixture
def users_by_role(make_user):
    return {role: make_user(role) for role in Role}


class AuthActions:
    """Sign in through the real form, as a person would."""

    def __init__(self, client):
        self._client = client

    def login(self, email, password=PASSWORD, remember=False):
        data = {"email": email, "password": password}
        if remember:
            data["remember"] = "y"
        return self._client.post("/login", data=data)

    def logout(self):
        return self._client.post("/logout")


@pytest.fixture
def auth(client):
    return AuthActions(client)


@pytest.fixture
def bearer(client):
    """Factory: Authorization headers for a user, from POST /api/v1/tokens."""
    def headers_for(user, password=PASSWORD):
        response = client.post("/api/v1/tokens", json={"email": user.email, "password": password})
        assert response.status_code == 201, response.get_json()
        return {"Authorization": f"Bearer {response.get_json()['token']}"}

    return headers_for


@pytest.fixture
def redis_url():
    url = os.environ.get("TEST_REDIS_URL")
    if not url:
        if ON_CI:
            pytest.fail("TEST_REDIS_URL must be set on CI")
        pytest.skip("TEST_REDIS_URL is not set")
    import redis

    try:
        redis.Redis.from_url(url).ping()
    except redis.exceptions.ConnectionError as exc:
        if ON_CI:
            pytest.fail(f"Redis at {url} is unreachable: {exc}")
        pytest.skip(f"Redis unreachable: {exc}")
    return url


def csrf_token_from(html):
    match = re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', html)
    assert match, "no CSRF token in the page"
    return match.group(1)
