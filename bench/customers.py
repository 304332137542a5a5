"""Customer records at scale: 100,000 customers and 2,000,000 activity rows.

    .venv/bin/python bench/customers.py [--database-url URL] [--requests 40] [--keep]

Builds the data (schema from the migrations, rows by SQLAlchemy Core
executemany; ~2 minutes on SQLite), then measures server time in-process over
the Flask test client, signed in as a moderator:

- the customer list, filtered and paged (search, tier + untouched days, region + sort),
- a key customer's 360 page (its timeline has ~20,000 entries) and its timeline API,
  first page and a page deep in the past (by cursor),
- a 10,000-row CSV import: the dry run, then the real import.

Prints p50 / p95 per case and writes bench/results/customers.json. Targets:
list and 360 under 200 ms p95, the import under 10 s. Exits 1 when one is missed.
Default database: a fresh SQLite file bench/results/customers.db; pass a
PostgreSQL URL (an empty database) to measure there.
"""
import argparse
import atexit
import json
import os
import random
import shutil
import statistics
import sys
import tempfile
import time
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
from portal.crm.models import Customer, CustomerDomain  # noqa: E402
from portal.events import Activity, Verb  # noqa: E402
from portal.extensions import db  # noqa: E402
from portal.permissions import Role  # noqa: E402
from portal.text import folded  # noqa: E402

CUSTOMERS = 100_000
ACTIVITY = 2_000_000
MEMBERS = 20_000
RICH = 20_000          # activity rows of the one key customer whose 360 is measured
CHUNK = 20_000
REGIONS = ("East China", "North China", "South China", "Europe", "North America", "Southeast Asia")
INDUSTRIES = ("Retail", "Logistics", "Financial Services", "Manufacturing", "Education", "Healthcare", "Energy")
NAMES = ("星辰", "Nordwind", "Huaxia", "Lumen", "Kestrel", "云帆", "Atlas", "青松", "Orion", "Meridian")
TARGET_MS, IMPORT_TARGET_S = 200, 10
PASSWORD = "bench-password-2026"


def build(app, seed=2026):
    rng = random.Random(seed)
    now = datetime.now(UTC)
    with app.app_context():
        from flask_migrate import upgrade

        upgrade()
        started = time.perf_counter()
        staff = _staff()
        _customers(rng, now, staff)
        members = _members()
        _activity(rng, now, members)
        db.session.commit()
        print(f"built {CUSTOMERS:,} customers, {ACTIVITY:,} activity rows in {time.perf_counter() - started:.0f} s")
        return staff["moderator"]


def _staff():
    password_hash = generate_password_hash(PASSWORD)
    rows = [{"email": f"{role}@bench.example", "name": f"Bench {role}", "role": role, "password_hash": password_hash,
             "username": f"bench-{role}", "referral_code": f"BENCH{n}"}
            for n, role in enumerate(("moderator", "sales", "admin"))]
    db.session.execute(sa.insert(User), rows)
    return {u.role.value: u.id for u in db.session.scalars(sa.select(User))}


def _customers(rng, now, staff):
    rows, domains = [], []
    for n in range(1, CUSTOMERS + 1):
        name = f"{rng.choice(NAMES)} {n:06d}"
        row = {
            "id": n, "external_id": f"LC-{n:06d}", "name": name, "company": f"{name} 有限公司",
            "email": f"it@c{n}.example", "phone": f"+86 21 {rng.randint(1000, 9999)} {n % 10000:04d}",
            "region": rng.choice(REGIONS), "industry": rng.choice(INDUSTRIES), "size": "201-1000",
            "source": "import", "owner_rep_id": staff["sales"] if n % 3 == 0 else None,
            "relationship_owner_id": staff["moderator"] if n % 2 == 0 else None,
            "value_tier": "key" if n <= 2000 else ("valued" if n <= 10000 else "standard"),
            "lifecycle_stage": rng.choice(("customer", "repeat_customer", "prospect", "churned_customer")),
            "revenue": rng.randint(0, 2_000_000), "contact_channels": ["email"], "opt_outs": [], "tags": [],
            "last_touch_at": now - timedelta(days=rng.randint(0, 400)),
            "last_verified_at": now - timedelta(days=rng.randint(0, 800)),
            "created_at": now - timedelta(days=900), "updated_at": now - timedelta(days=rng.randint(0, 900)),
        }
        row["search_text"] = folded(" ".join([name, row["company"], row["email"], row["external_id"],
                                              row["phone"], f"c{n}.example"]))
        rows.append(row)
        domains.append({"customer_id": n, "domain": f"c{n}.example"})
        if len(rows) == CHUNK:
            db.session.execute(sa.insert(Customer.__table__), rows)
            db.session.execute(sa.insert(CustomerDomain.__table__), domains)
            rows, domains = [], []
    if rows:
        db.session.execute(sa.insert(Customer.__table__), rows)
        db.session.execute(sa.insert(CustomerDomain.__table__), domains)
    if db.engine.dialect.name == "postgresql":  # ids were given: move the sequence past them for later inserts
        db.session.execute(sa.text("SELECT setval(pg_get_serial_sequence('customers', 'id'), max(id)) FROM customers"))


def _members():
    rows = [{"email": f"m{n}@c{n % 5000 + 1}.example", "name": f"Member {n}", "role": Role.MEMBER,
             "password_hash": "x", "username": f"member-{n}", "referral_code": f"M{n:07d}",
             "customer_id": n % 5000 + 1} for n in range(MEMBERS)]
    rows[0]["customer_id"] = 1
    db.session.execute(sa.insert(User), rows)
    return db.session.execute(sa.select(User.id, User.customer_id).where(User.role == Role.MEMBER)).all()


def _payload(rng, verb, member_id):
    if verb == Verb.TOPIC_CREATED:
        return {"topic_id": rng.randint(1, 5000), "post_id": 1, "category_id": 1, "kind": "question", "mentions": []}
    if verb == Verb.POST_CREATED:
        return {"topic_id": rng.randint(1, 5000), "number": 2, "mentions": [], "reply_to_author_id": None}
    if verb == Verb.VOTED:
        return {"topic_id": rng.randint(1, 5000), "author_id": member_id, "value": 1, "previous": 0}
    if verb == Verb.VISITED:
        return {"streak": 1, "day": "2026-01-01"}
    return {"summary": "Quarterly review call", "contact": "", "staff_id": None, "follow_up_on": None,
            "external_ref": None}


def _activity(rng, now, members):
    """ACTIVITY rows over two years: RICH of them on customer 1 (the measured key account), the rest spread."""
    verbs = (Verb.TOPIC_CREATED, Verb.POST_CREATED, Verb.POST_CREATED, Verb.VISITED, Verb.VISITED, Verb.VOTED,
             Verb.TOUCHPOINT_RECORDED)
    rich_members = [m for m in members if m.customer_id == 1]
    rows = []
    for n in range(ACTIVITY):
        member = rng.choice(rich_members) if n < RICH else rng.choice(members)
        verb = rng.choice(verbs)
        row = {"actor_id": member.id, "verb": str(verb), "customer_id": member.customer_id,
               "channel": "call" if verb == Verb.TOUCHPOINT_RECORDED else "community",
               "occurred_at": now - timedelta(seconds=rng.randint(0, 730 * 86400)),
               "payload": _payload(rng, verb, member.id), "object_type": None, "object_id": None,
               "subject_user_id": None, "subject_customer_id": None}
        if verb == Verb.VOTED:  # a vote another member cast on this member's post
            row["actor_id"], row["customer_id"] = rng.choice(members).id, None
            row["subject_user_id"], row["subject_customer_id"] = member.id, member.customer_id
        rows.append(row)
        if len(rows) == CHUNK:
            db.session.execute(sa.insert(Activity.__table__), rows)
            rows = []
    if rows:
        db.session.execute(sa.insert(Activity.__table__), rows)


def timed(client, url, requests, **kwargs):
    client.get(url, **kwargs)  # warm
    times = []
    for _ in range(requests):
        started = time.perf_counter()
        response = client.get(url, **kwargs)
        times.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, (url, response.status_code)
    times.sort()
    return {"p50": statistics.median(times), "p95": times[int(len(times) * 0.95) - 1]}


def import_csv(rows=10_000, offset=90_000):
    lines = ["external_id,name,email,region,value_tier,revenue"]
    for n in range(rows):  # half update existing records, half create new ones
        number = offset + n if n % 2 == 0 else CUSTOMERS + n
        lines.append(f"LC-{number:06d},Imported {number},new{number}@imported.example,Europe,valued,{n * 10}")
    return ("\n".join(lines) + "\n").encode()


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--requests", type=int, default=40)
    parser.add_argument("--keep", action="store_true", help="Reuse bench/results/customers.db if it exists.")
    args = parser.parse_args()
    RESULTS.mkdir(exist_ok=True)
    db_file = RESULTS / "customers.db"
    url = args.database_url or f"sqlite:///{db_file}"
    fresh = not (args.keep and args.database_url is None and db_file.exists())
    if fresh and args.database_url is None:
        db_file.unlink(missing_ok=True)
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "RATELIMIT_ENABLED": False, "WTF_CSRF_ENABLED": False,
                      "OUTBOX_POLL_SECONDS": 0})
    if fresh:
        build(app)
    with app.app_context():
        db.session.execute(sa.text("ANALYZE"))  # both engines plan better with statistics
        db.session.commit()
    # Requests run outside any app context of ours, as in a server: each gets its own g and session.
    client = app.test_client()
    signed_in = client.post("/login", data={"email": "moderator@bench.example", "password": PASSWORD})
    assert signed_in.status_code == 302, signed_in.status_code
    token = app.test_client().post("/api/v1/tokens", json={"email": "moderator@bench.example",
                                                           "password": PASSWORD}).get_json()
    api = {"headers": {"Authorization": f"Bearer {token['token']}"}}
    results = {
        "list: search 星辰": timed(client, "/staff/customers/?q=星辰", args.requests),
        "list: key, untouched 30 days": timed(client, "/staff/customers/?value_tier=key&untouched_days=30",
                                              args.requests),
        "list: region, by revenue, page 40": timed(
            client, "/staff/customers/?region=Europe&sort=-revenue&page=40", args.requests),
        "360 page (key customer)": timed(client, "/staff/customers/1", args.requests),
        "timeline API (first page)": timed(client, "/api/v1/customers/1/timeline", args.requests, **api),
    }
    cursor = None
    for _ in range(40):  # 40 pages of 50 back in time
        page = client.get(f"/api/v1/customers/1/timeline?before={cursor or ''}", **api).get_json()
        cursor = page["next_cursor"]
    results["timeline API (page 41, by cursor)"] = timed(client, f"/api/v1/customers/1/timeline?before={cursor}",
                                                         args.requests, **api)
    data = import_csv()
    from portal.crm.csvio import import_customers

    with app.app_context():
        moderator = db.session.scalar(sa.select(User).where(User.email == "moderator@bench.example"))
        started = time.perf_counter()
        report = import_customers(moderator, data, dry_run=True)
        dry = time.perf_counter() - started
        started = time.perf_counter()
        real_report = import_customers(moderator, data, dry_run=False)
        real = time.perf_counter() - started
    print(f"\n{'case':<38} {'p50 ms':>8} {'p95 ms':>8}")
    missed = False
    for case, figures in results.items():
        flag = "" if figures["p95"] < TARGET_MS else "  MISSED"
        missed |= bool(flag)
        print(f"{case:<38} {figures['p50']:8.1f} {figures['p95']:8.1f}{flag}")
    print(f"\nimport of 10,000 rows: dry run {dry:.1f} s ({report.counts}), "
          f"import {real:.1f} s ({real_report.counts})")
    missed |= dry > IMPORT_TARGET_S or real > IMPORT_TARGET_S
    out = {"database": app.config["SQLALCHEMY_DATABASE_URI"].split(":")[0], "cases": results,
           "import_dry_run_s": dry, "import_s": real}
    (RESULTS / "customers.json").write_text(json.dumps(out, indent=2, ensure_ascii=False))
    sys.exit(1 if missed else 0)


if __name__ == "__main__":
    main()
