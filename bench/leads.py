"""Leads at load: parallel claims, signal scoring throughput, and the pool page with 10,000 open leads.

    .venv/bin/python bench/leads.py [--database-url URL] [--requests 40] [--replies 200] [--only claims|scoring|pool]

Each case runs on a fresh PostgreSQL schema of its own (dropped afterwards)
built by the migrations, in-process over the Flask test client:

- claims: 20 reps fire 500 claim requests (POST /api/v1/leads/{id}/claim) at
  50 pool leads from 20 threads at once. Target: exactly 50 winners (200), the
  rest 409, and every lead held by the rep who won it.
- scoring: members post replies with buying words (报价, quote, 续费…) through
  community.posts.reply, with the leads subscribers connected and then
  disconnected, in the same run. Prints replies per second of both and the
  time the leads subscribers add per reply.
- pool: 10,000 open leads in the pool (each with two signals on a customer),
  GET /sales/leads as a rep: the first page, a filtered page and a deep page.
  Target: p95 under 200 ms.

Prints the figures and writes bench/results/leads.json; exits 1 when a
target is missed. Default database: the machine's PostgreSQL `test`.
"""
import argparse
import atexit
import json
import os
import random
import secrets
import shutil
import statistics
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
ROOT = BENCH_DIR.parent
RESULTS = BENCH_DIR / "results"
sys.path.insert(0, str(ROOT))

if "INSTANCE_DIR" not in os.environ:
    os.environ["INSTANCE_DIR"] = tempfile.mkdtemp(prefix="teahouse-bench-instance-")
    atexit.register(shutil.rmtree, os.environ["INSTANCE_DIR"], True)
os.environ.setdefault("SECRET_KEY", "bench-secret-key-not-for-production")
os.environ["RATELIMIT_ENABLED"] = "0"

import sqlalchemy as sa  # noqa: E402
from werkzeug.security import generate_password_hash  # noqa: E402

from portal import create_app  # noqa: E402
from portal.auth.models import User  # noqa: E402
from portal.auth.sessions import start_login_session  # noqa: E402
from portal.community.models import Category, Topic  # noqa: E402
from portal.crm.models import Customer  # noqa: E402
from portal.events import activity_recorded  # noqa: E402
from portal.extensions import db  # noqa: E402
from portal.leads import signals as lead_signals  # noqa: E402
from portal.leads.models import Lead, LeadSignal  # noqa: E402
from portal.permissions import Role  # noqa: E402

DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
PASSWORD = "bench-password-2026"
LONG_AGO = datetime(2024, 1, 1, tzinfo=UTC)
POOL_LEADS, POOL_TARGET_MS = 10_000, 200
CLAIM_LEADS, CLAIM_REPS, CLAIM_ATTEMPTS = 50, 20, 500
BUYING_REPLIES = ("请问企业版的报价是多少？", "Could we get a quote for 40 more seats?", "续费的价格有优惠吗？",
                  "We want to upgrade to the Enterprise plan.", "換新的話有以舊換新嗎？", "合同到期前可以增购吗？")


class Schema:
    """A fresh schema on the server, for one case; dropped afterwards."""

    def __init__(self, base_url):
        self.base_url, self.name = base_url, f"teahouse_bench_{secrets.token_hex(4)}"
        self.admin = sa.create_engine(base_url)

    def __enter__(self):
        with self.admin.begin() as conn:
            conn.execute(sa.text(f'CREATE SCHEMA "{self.name}"'))
        app = create_app({
            "SQLALCHEMY_DATABASE_URI": self.base_url, "RATELIMIT_ENABLED": False, "WTF_CSRF_ENABLED": False,
            "SQLALCHEMY_ENGINE_OPTIONS": {"connect_args": {"options": f"-csearch_path={self.name}"},
                                          "pool_size": 30, "max_overflow": 10},
            "OUTBOX_POLL_SECONDS": 0, "SERVER_NAME": "bench.teahouse.test",
            "TRUSTED_HOSTS": ["bench.teahouse.test"], "PUBLIC_URL": "https://bench.teahouse.test"})
        with app.app_context():
            from flask_migrate import upgrade

            upgrade()
        return app

    def __exit__(self, *exc):
        with self.admin.begin() as conn:
            conn.execute(sa.text(f'DROP SCHEMA "{self.name}" CASCADE'))
        self.admin.dispose()


def _users(role, count, prefix, **fields):
    password_hash = generate_password_hash(PASSWORD)
    rows = [{"email": f"{prefix}{n}@bench.example", "name": f"{prefix.title()} {n}", "role": role,
             "password_hash": password_hash, "username": f"{prefix}-{n}", "referral_code": f"{prefix.upper()}{n:05d}",
             "created_at": LONG_AGO, **fields} for n in range(count)]
    db.session.execute(sa.insert(User), rows)
    return list(db.session.scalars(sa.select(User.id).where(User.email.like(f"{prefix}%@bench.example"))
                                   .order_by(User.id)))


def _customers(count):
    rows = [{"id": n, "name": f"云帆 Logistics {n:05d}", "email": f"it@c{n}.example", "source": "import",
             "value_tier": ("key", "valued", "standard")[n % 3], "lifecycle_stage": ("prospect", "customer")[n % 2],
             "revenue": n * 10, "contact_channels": [], "opt_outs": [], "tags": [], "search_text": f"c{n}"}
            for n in range(1, count + 1)]
    db.session.execute(sa.insert(Customer.__table__), rows)
    db.session.execute(sa.text("SELECT setval(pg_get_serial_sequence('customers', 'id'), max(id)) FROM customers"))


def _pool_leads(count, now):
    kinds = ("upsell", "upgrade", "repurchase", "referral", "win_back", "new_business")
    leads = [{"id": n, "subject": f"customer:{n}", "customer_id": n, "kind": kinds[n % 6], "source": "intent_words",
              "status": "pool", "score": 40 + n % 60, "scored_at": now, "products": [], "lost_reason": "",
              "times_returned": 0, "created_at": now - timedelta(hours=n % 500), "updated_at": now}
             for n in range(1, count + 1)]
    db.session.execute(sa.insert(Lead.__table__), leads)
    signals = [{"subject": f"customer:{n}", "lead_id": n, "kind": kind, "points": points, "half_life_days": 21,
                "detail": {"terms": ["报价"]} if kind == "intent_words" else {}, "occurred_at": now}
               for n in range(1, count + 1)
               for kind, points in (("intent_words", 40), ("prospect_engaged", 25))]
    db.session.execute(sa.insert(LeadSignal.__table__), signals)
    db.session.execute(sa.text("SELECT setval(pg_get_serial_sequence('leads', 'id'), max(id)) FROM leads"))


def _signed_in_client(app, user_id):
    client = app.test_client()
    with app.app_context():
        user = db.session.get(User, user_id)
        start_login_session(user)
        db.session.commit()
        login_id = user.login_id
    with client.session_transaction() as session:
        session["_user_id"], session["_fresh"] = login_id, True
    return client


def _token(client, user_id):
    with client.application.app_context():
        email = db.session.get(User, user_id).email
    response = client.post("/api/v1/tokens", json={"email": email, "password": PASSWORD})
    return {"Authorization": f"Bearer {response.get_json()['token']}"}


def bench_claims(app):
    with app.app_context():
        _customers(CLAIM_LEADS)
        _pool_leads(CLAIM_LEADS, datetime.now(UTC))
        reps = _users(Role.SALES, CLAIM_REPS, "rep")
        db.session.commit()
    client = app.test_client()
    headers = {rep: _token(client, rep) for rep in reps}
    rng = random.Random(2026)
    attempts = [(reps[n % CLAIM_REPS], rng.randint(1, CLAIM_LEADS)) for n in range(CLAIM_ATTEMPTS)]
    start = threading.Barrier(CLAIM_REPS)

    def claim_all(rep):
        mine = [lead for who, lead in attempts if who == rep]
        own_client = app.test_client()
        start.wait()
        return [(lead, own_client.post(f"/api/v1/leads/{lead}/claim", headers=headers[rep]).status_code)
                for lead in mine]

    started = time.perf_counter()
    with ThreadPoolExecutor(CLAIM_REPS) as pool:
        results = dict(zip(reps, pool.map(claim_all, reps), strict=True))
    seconds = time.perf_counter() - started
    wins = {(lead, rep) for rep, tries in results.items() for lead, status in tries if status == 200}
    statuses = sorted({status for tries in results.values() for _, status in tries})
    with app.app_context():
        owners = dict(db.session.execute(sa.select(Lead.id, Lead.owner_id)).all())
    tried = {lead for _, lead in attempts}
    exact = len(wins) == len(tried) and all(owners[lead] == rep for lead, rep in wins)
    print(f"claims: {CLAIM_ATTEMPTS} attempts by {CLAIM_REPS} reps on {len(tried)} leads -> {len(wins)} winners, "
          f"statuses {statuses}, {seconds:.1f} s, every lead held by its winner: {exact}")
    return {"attempts": CLAIM_ATTEMPTS, "leads": len(tried), "winners": len(wins), "seconds": round(seconds, 2),
            "statuses": statuses, "ok": exact and set(statuses) <= {200, 409}}


def _leads_subscribers():
    return [(function, verb) for function in vars(lead_signals).values()
            for verb in getattr(function, "listens_to", ())]


def _reply_rate(app, members, topic_id, replies):
    from portal.community import posts

    with app.app_context():
        authors = [db.session.get(User, member) for member in members]
        started = time.perf_counter()
        for n in range(replies):
            posts.reply(authors[n % len(authors)], topic_id, f"{BUYING_REPLIES[n % len(BUYING_REPLIES)]} ({n})")
        return replies / (time.perf_counter() - started)


def bench_scoring(app, replies):
    with app.app_context():
        _customers(50)
        members = _users(Role.MEMBER, 50, "member")
        db.session.execute(sa.update(User).where(User.id.in_(members)).values(customer_id=User.id % 50 + 1))
        category = Category(name="Questions", slug="questions")
        db.session.add(category)
        db.session.flush()
        topic = Topic(category_id=category.id, kind="question", title="Pricing", author_id=members[0])
        db.session.add(topic)
        db.session.commit()
        topic_id = topic.id
    _reply_rate(app, members, topic_id, 20)  # warm
    with_leads = _reply_rate(app, members, topic_id, replies)
    for function, verb in _leads_subscribers():
        activity_recorded.disconnect(function, sender=verb)
    try:
        without = _reply_rate(app, members, topic_id, replies)
    finally:
        for function, verb in _leads_subscribers():
            activity_recorded.connect(function, sender=verb, weak=False)
    with app.app_context():
        leads = db.session.scalar(sa.select(sa.func.count()).select_from(Lead))
    added_ms = (1 / with_leads - 1 / without) * 1000
    print(f"scoring: {with_leads:.1f} replies/s with the leads subscribers, {without:.1f} without "
          f"({added_ms:.1f} ms per reply in the subscribers); {leads} leads made")
    return {"replies": replies, "with_leads_per_s": round(with_leads, 1), "without_per_s": round(without, 1),
            "subscriber_ms_per_reply": round(added_ms, 1), "leads_made": leads}


def timed(client, url, requests):
    client.get(url)  # warm
    times = []
    for _ in range(requests):
        started = time.perf_counter()
        response = client.get(url)
        times.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, (url, response.status_code)
    times.sort()
    return {"p50": round(statistics.median(times), 1), "p95": round(times[int(len(times) * 0.95) - 1], 1)}


def bench_pool(app, requests):
    with app.app_context():
        _customers(POOL_LEADS)
        _pool_leads(POOL_LEADS, datetime.now(UTC))
        [rep] = _users(Role.SALES, 1, "poolrep")
        db.session.commit()
    client = _signed_in_client(app, rep)
    cases = {"pool, first page": "/sales/leads", "pool, kind=upsell": "/sales/leads?kind=upsell",
             "pool, page 100": "/sales/leads?page=100"}
    figures = {name: timed(client, url, requests) for name, url in cases.items()}
    for name, figure in figures.items():
        print(f"{name:<22} p50 {figure['p50']:7.1f} ms   p95 {figure['p95']:7.1f} ms   (target p95 < {POOL_TARGET_MS})")
    return {"open_leads": POOL_LEADS, "pages": figures,
            "ok": all(f["p95"] < POOL_TARGET_MS for f in figures.values())}


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", default=DEFAULT_URL)
    parser.add_argument("--requests", type=int, default=40)
    parser.add_argument("--replies", type=int, default=200)
    parser.add_argument("--only", choices=("claims", "scoring", "pool"))
    args = parser.parse_args()
    if not args.database_url.startswith("postgresql"):
        parser.error("the claims race needs PostgreSQL: pass a postgresql+psycopg:// URL")
    RESULTS.mkdir(exist_ok=True)
    results = {}
    for case in ("claims", "scoring", "pool"):
        if args.only not in (None, case):
            continue
        with Schema(args.database_url) as app:
            if case == "claims":
                results[case] = bench_claims(app)
            elif case == "scoring":
                results[case] = bench_scoring(app, args.replies)
            else:
                results[case] = bench_pool(app, args.requests)
    (RESULTS / "leads.json").write_text(json.dumps(results, indent=2))
    return 0 if all(result.get("ok", True) for result in results.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
