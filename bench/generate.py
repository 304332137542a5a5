"""Build a benchmark database: 100 members, 5 categories, 5,000 topics, 50,000 posts.

    .venv/bin/python bench/generate.py [DB_PATH]      (default bench/results/bench.db)

The schema comes from the migrations (`flask_migrate.upgrade()`), the rows
from SQLAlchemy Core executemany inserts: the service functions would take
minutes for 50,000 posts. A few dozen distinct post bodies are rendered once
with the real Markdown pipeline (portal.community.markdown.render) and reused,
so every stored `html` is exactly what the app would have produced.

Counters are kept as the services keep them: Topic.post_count is the number of
posts (the first one included), reply_count = post_count - 1, last_posted_at
and last_poster_id are those of the last post, Post.score is the sum of its
votes and Topic.score the score of its first post.

Two topics are singled out for the load test and written to
bench/results/ids.json: a discussion with exactly 50 posts, and a question
with 50 answers (voted on, one accepted).
"""
import argparse
import atexit
import json
import os
import random
import shutil
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
ROOT = BENCH_DIR.parent
RESULTS = BENCH_DIR / "results"
sys.path.insert(0, str(ROOT))

# Before portal.config is imported: no generated secret key or files in the repo's instance/.
if "INSTANCE_DIR" not in os.environ:
    os.environ["INSTANCE_DIR"] = tempfile.mkdtemp(prefix="teahouse-bench-instance-")
    atexit.register(shutil.rmtree, os.environ["INSTANCE_DIR"], True)
os.environ.setdefault("SECRET_KEY", "bench-secret-key")
os.environ["OUTBOX_POLL_SECONDS"] = "0"  # no drainer thread: the schema is not there yet when the app starts

import sqlalchemy as sa  # noqa: E402
from werkzeug.security import generate_password_hash  # noqa: E402

from portal import create_app  # noqa: E402
from portal.auth.models import User  # noqa: E402
from portal.community import markdown  # noqa: E402
from portal.community.models import Category, Post, Tag, Topic, TopicKind, Vote, topic_tags  # noqa: E402
from portal.extensions import db  # noqa: E402

MEMBERS = 100
CATEGORIES = 5
TOPICS = 5_000
POSTS = 50_000
TAGS = 20
SPECIAL_POSTS = 50  # the discussion: 50 posts; the question: 1 + 50 answers
PASSWORD = "bench-password-2026"
MEMBERS_SIGNED_IN = 8  # topic_pages.py spreads the signed-in requests over these

FIRST_NAMES = ("Alice", "Bo", "Chen", "Dmitri", "Elena", "Farah", "Gustavo", "Hana", "Ivan", "Jia", "Kofi", "Lena",
               "Mateo", "Nadia", "Omar", "Priya", "Quinn", "Rosa", "Sven", "Tomoko", "Uma", "Victor", "Wei",
               "Ximena", "Yusuf", "Zoe", "Li Na", "Ahmed", "Beatriz", "Carlos")
LAST_NAMES = ("Andersson", "Brown", "Costa", "Dubois", "Evans", "Fischer", "García", "Huang", "Ibrahim", "Jensen",
              "Kowalski", "Liu", "Müller", "Nakamura", "Okafor", "Petrov", "Rossi", "Singh", "Tanaka", "Wang",
              "Zhang", "O'Brien", "Novak", "Haddad")

CATEGORY_ROWS = (
    ("Announcements", "announcements", "Release notes, maintenance windows and events.", "#b45309"),
    ("Getting Started", "getting-started", "Connect your first data source and build a dashboard.", "#0f766e"),
    ("Questions & Answers", "questions", "Ask how to model a metric or speed up a slow query.", "#1d4ed8"),
    ("Ideas", "ideas", "Suggest features and vote on what we build next.", "#7c3aed"),
    ("Show and Tell", "show-and-tell", "Dashboards, tricks and integrations worth sharing.", "#be123c"),
)

TAG_NAMES = ("sql", "dashboards", "api", "sso", "billing", "performance", "python", "connectors", "postgres",
             "exports", "alerts", "permissions", "mobile", "embedding", "charts", "scheduling", "webhooks",
             "data-modeling", "release-notes", "bug")

SUBJECTS = ("the SQL editor", "scheduled exports", "row-level permissions", "the REST API", "SSO with Okta",
            "the PostgreSQL connector", "dashboard filters", "chart annotations", "embedded dashboards",
            "the mobile app", "alert thresholds", "CSV uploads", "the billing page", "webhook retries",
            "calculated fields", "time zone handling", "the Snowflake connector", "pivot tables",
            "dashboard caching", "audit logs")
QUESTION_TITLES = ("How do I set up {s} for a team of 40?", "Why is {s} so slow on large tables?",
                   "Is there a way to automate {s}?", "{S} returns an error after the last update — any fix?",
                   "What is the best practice for {s}?", "Can {s} work with our on-premise database?")
DISCUSSION_TITLES = ("Our experience with {s} after six months", "Tips and tricks for {s}",
                     "Show us how you use {s}", "Thoughts on the new {s}", "{S}: what we learned migrating")
IDEA_TITLES = ("Please add dark mode to {s}", "Idea: bulk editing in {s}", "Let us schedule {s} per team",
               "Support for custom colours in {s}", "Make {s} available through the API")

SENTENCES = (
    "We rolled this out to the finance team last quarter and the feedback has been good so far.",
    "The documentation covers the basics, but it does not say what happens when a source times out.",
    "After the upgrade the dashboard loads in about two seconds instead of eight.",
    "I tried clearing the cache and re-authenticating, which did not change anything.",
    "Our data warehouse has roughly 300 million rows in the events table, partitioned by day.",
    "It would help a lot if the filters remembered their state between sessions.",
    "Support suggested opening a thread here so that others can benefit from the answer.",
    "We use the API to push nightly snapshots into the CRM, and it has been reliable.",
    "One thing to watch out for: the connector uses the server's time zone, not the user's.",
    "Has anyone else seen this behaviour with more than a hundred concurrent viewers?",
    "Thanks for the detailed write-up, this saved me an afternoon of trial and error.",
    "In our case the fix was to add an index on the customer id and the created date.",
    "The permissions model is flexible, but it takes a while to understand how roles combine.",
    "我们团队也遇到了同样的问题，升级到最新版本之后就解决了。",
    "Exporting to Excel works, although large exports are split into several files.",
)
CODE_SNIPPETS = (
    ("sql", "SELECT customer_id, date_trunc('month', created_at) AS month, sum(amount)\n"
            "FROM orders\nWHERE created_at >= now() - interval '1 year'\nGROUP BY 1, 2\nORDER BY 2;"),
    ("python", "import requests\n\nresp = requests.get(f\"{BASE}/api/v1/reports/42\", headers=HEADERS, timeout=10)\n"
               "resp.raise_for_status()\nfor row in resp.json()[\"items\"]:\n    print(row[\"name\"], row[\"value\"])"),
    ("json", '{\n  "schedule": "0 6 * * 1-5",\n  "format": "csv",\n  "recipients": ["ops@example.com"]\n}'),
)
LINKS = ("https://docs.example.com/connectors/postgres", "https://status.example.com",
         "https://example.com/blog/release-notes-4-2")


def _body(rng, handles):
    """One Markdown post body: paragraphs, sometimes a list, code, quote, link or @mention."""
    parts = []
    for _ in range(rng.randint(1, 4)):
        paragraph = " ".join(rng.sample(SENTENCES, rng.randint(1, 4)))
        if rng.random() < 0.25:
            paragraph += f" See [the guide]({rng.choice(LINKS)}) for details."
        if rng.random() < 0.2:
            paragraph = f"@{rng.choice(handles)} {paragraph}"
        if rng.random() < 0.2:
            paragraph = paragraph.replace("dashboard", "**dashboard**", 1)
        parts.append(paragraph)
    if rng.random() < 0.3:
        parts.insert(1, "\n".join(f"{i}. {s}" for i, s in enumerate(rng.sample(SENTENCES, 3), 1)))
    if rng.random() < 0.25:
        lang, code = rng.choice(CODE_SNIPPETS)
        parts.append(f"```{lang}\n{code}\n```")
    if rng.random() < 0.15:
        parts.insert(0, "> " + rng.choice(SENTENCES))
    return "\n\n".join(parts)


def _rendered_bodies(rng, users, count=40):
    by_handle = {u["username"]: u["id"] for u in users}

    def mention_url(handle):
        uid = by_handle.get(handle)
        return f"/members/{uid}" if uid else None

    bodies = []
    for _ in range(count):
        source = _body(rng, list(by_handle))
        bodies.append((source, markdown.render(source, mention_url=mention_url).html))
    return bodies


def _users(rng, now, password_hash):
    rows, seen = [], set()
    for i in range(1, MEMBERS + 1):
        while True:
            name = f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}"
            if name not in seen:
                seen.add(name)
                break
        handle = name.lower().replace(" ", ".").replace("'", "")
        handle = "".join(ch for ch in handle if ch.isalnum() or ch in ".-")[:26]
        rows.append({
            "id": i, "email": f"{handle}@customer{i % 37}.example", "password_hash": password_hash,
            "name": name, "username": handle, "role": "member", "status": "active", "locale": None,
            "timezone": "UTC", "bio": "", "referral_code": f"bench{i:04d}", "customer_id": None, "team_id": None,
            "points": 0,
            "created_at": now - timedelta(days=rng.randint(400, 900)), "last_login_at": None,
        })
    return rows


def _post_counts(rng, special):
    """Posts per topic: at least one each, skewed like a real forum, summing to POSTS."""
    counts = [1] * TOPICS
    for tid, n in special.items():
        counts[tid - 1] = n
    free = [i for i in range(TOPICS) if i + 1 not in special]
    extra = POSTS - sum(counts)
    weights = [min(rng.paretovariate(1.3), 40.0) for _ in free]
    for i in rng.choices(free, weights=weights, k=extra):
        counts[i] += 1
    return counts


def generate(db_path, seed=2026):
    rng = random.Random(seed)
    started = time.perf_counter()
    db_path = Path(db_path).resolve()
    db_path.parent.mkdir(parents=True, exist_ok=True)
    for suffix in ("", "-wal", "-shm", "-journal"):
        Path(f"{db_path}{suffix}").unlink(missing_ok=True)

    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{db_path}", "RATELIMIT_ENABLED": False})
    with app.app_context():
        from flask_migrate import upgrade

        upgrade()
        t_schema = time.perf_counter()

        now = datetime.now(UTC).replace(microsecond=0)
        users = _users(rng, now, generate_password_hash(PASSWORD))
        user_ids = [u["id"] for u in users]
        bodies = _rendered_bodies(rng, users)

        categories = [{"id": i, "name": name, "slug": slug, "description": desc, "colour": colour,
                       "position": i, "read_access": "everyone",
                       "write_access": "staff" if slug == "announcements" else "members",
                       "created_at": now - timedelta(days=1000)}
                      for i, (name, slug, desc, colour) in enumerate(CATEGORY_ROWS, 1)]
        tags = [{"id": i, "name": name, "created_by_id": None, "created_at": now - timedelta(days=900)}
                for i, name in enumerate(TAG_NAMES, 1)]

        # The two topics the load test reads: a discussion of 50 posts, a question with 50 answers.
        discussion_id, question_id = rng.sample(range(TOPICS // 2, TOPICS), 2)
        special = {discussion_id: SPECIAL_POSTS, question_id: SPECIAL_POSTS + 1}
        counts = _post_counts(rng, special)

        topics, posts, votes, links, solved = [], [], [], [], {}
        post_id = vote_id = 0
        for tid in range(1, TOPICS + 1):
            if tid == discussion_id:
                kind = TopicKind.DISCUSSION
            elif tid == question_id:
                kind = TopicKind.QUESTION
            else:
                kind = rng.choices([TopicKind.DISCUSSION, TopicKind.QUESTION, TopicKind.IDEA], [55, 30, 15])[0]
            category_id = {TopicKind.QUESTION: 3, TopicKind.IDEA: 4}.get(kind) if rng.random() < 0.7 else None
            category_id = category_id or rng.choice([1, 2, 5] if kind == TopicKind.DISCUSSION else [2, 3, 4, 5])
            subject = rng.choice(SUBJECTS)
            pattern = rng.choice({TopicKind.QUESTION: QUESTION_TITLES, TopicKind.IDEA: IDEA_TITLES}
                                 .get(kind, DISCUSSION_TITLES))
            title = pattern.format(s=subject, S=subject[:1].upper() + subject[1:])
            created = now - timedelta(days=365) + timedelta(seconds=rng.randint(0, 365 * 86400 - 3600))
            author = rng.choice(user_ids)
            first_post_id = post_id + 1
            when, topic_posts = created, []
            for number in range(1, counts[tid - 1] + 1):
                post_id += 1
                poster = author if number == 1 else rng.choice(user_ids)
                source, html = rng.choice(bodies)
                reply_to = None
                if number > 2 and rng.random() < 0.12:
                    reply_to = rng.randint(first_post_id + 1, post_id - 1)
                row = {"id": post_id, "topic_id": tid, "number": number, "author_id": poster,
                       "reply_to_id": reply_to, "source": source, "html": html,
                       "sanitizer_version": markdown.SANITIZER_VERSION, "score": 0, "created_at": when,
                       "edited_at": None, "revision_count": 0, "deleted_at": None, "hidden_at": None}
                topic_posts.append(row)
                when = min(when + timedelta(minutes=rng.randint(3, 3 * 24 * 60)), now)
            # Votes: about a third of the posts, more on the singled-out topics.
            vote_share = 0.8 if tid in special else 0.35
            for row in topic_posts:
                if rng.random() >= vote_share:
                    continue
                voters = rng.sample([u for u in user_ids if u != row["author_id"]], rng.randint(1, 9))
                down_share = 0 if (kind == TopicKind.IDEA and row["number"] == 1) else 0.12
                for voter in voters:
                    vote_id += 1
                    value = -1 if rng.random() < down_share else 1
                    voted = min(row["created_at"] + timedelta(hours=rng.randint(1, 96)), now)
                    votes.append({"id": vote_id, "post_id": row["id"], "voter_id": voter, "value": value,
                                  "created_at": voted, "updated_at": voted})
                    row["score"] += value
            posts += topic_posts
            last = topic_posts[-1]
            answers = topic_posts[1:]
            if kind == TopicKind.QUESTION and answers and (tid == question_id or rng.random() < 0.5):
                best = max(answers, key=lambda p: (p["score"], -p["number"]))
                solved[tid] = (best if rng.random() < 0.8 else rng.choice(answers))["id"]
            topics.append({
                "id": tid, "category_id": category_id, "author_id": author, "kind": kind.value, "title": title,
                "created_at": created, "last_posted_at": last["created_at"], "last_poster_id": last["author_id"],
                "reply_count": len(topic_posts) - 1, "post_count": len(topic_posts),
                "score": topic_posts[0]["score"], "solved_post_id": None,
                "idea_status": (rng.choice(["new", "new", "under_review", "planned", "in_progress", "done",
                                            "declined"]) if kind == TopicKind.IDEA else None),
                "pinned": False, "locked": False, "duplicate_of_id": None, "deleted_at": None,
            })
            for tag_id in rng.sample(range(1, TAGS + 1), rng.choice([0, 1, 1, 2, 2, 3])):
                links.append({"topic_id": tid, "tag_id": tag_id})
        assert len(posts) == POSTS, len(posts)
        t_built = time.perf_counter()

        with db.engine.begin() as conn:
            conn.exec_driver_sql("PRAGMA synchronous=OFF")
            conn.execute(sa.insert(User.__table__), users)
            conn.execute(sa.insert(Category.__table__), categories)
            conn.execute(sa.insert(Tag.__table__), tags)
            conn.execute(sa.insert(Topic.__table__), topics)
            conn.execute(sa.insert(topic_tags), links)
            conn.execute(sa.insert(Post.__table__), posts)
            conn.execute(sa.insert(Vote.__table__), votes)
            conn.execute(sa.update(Topic.__table__).where(Topic.__table__.c.id == sa.bindparam("tid"))
                         .values(solved_post_id=sa.bindparam("pid")),
                         [{"tid": tid, "pid": pid} for tid, pid in solved.items()])
        with db.engine.connect() as conn:
            conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        t_inserted = time.perf_counter()
        db.engine.dispose()

    ids = {
        "database": str(db_path),
        "discussion_topic_id": discussion_id,
        "discussion_posts": SPECIAL_POSTS,
        "question_topic_id": question_id,
        "question_answers": SPECIAL_POSTS,
        "question_accepted_post_id": solved[question_id],
        "member_password": PASSWORD,
        "member_email": users[0]["email"],
        "member_emails": [user["email"] for user in users[:MEMBERS_SIGNED_IN]],
        "counts": {"members": len(users), "categories": len(categories), "tags": len(tags), "topics": len(topics),
                   "posts": len(posts), "votes": len(votes), "topic_tags": len(links), "solved": len(solved)},
        "seconds": {"schema": round(t_schema - started, 2), "build_rows": round(t_built - t_schema, 2),
                    "insert": round(t_inserted - t_built, 2), "total": round(t_inserted - started, 2)},
    }
    return ids


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("db_path", nargs="?", default=str(RESULTS / "bench.db"))
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--ids", default=str(RESULTS / "ids.json"), help="where to write the topic ids")
    args = parser.parse_args(argv)
    ids = generate(args.db_path, seed=args.seed)
    Path(args.ids).parent.mkdir(parents=True, exist_ok=True)
    Path(args.ids).write_text(json.dumps(ids, indent=2) + "\n")
    c, s = ids["counts"], ids["seconds"]
    print(f"database   {ids['database']}")
    print(f"rows       {c['members']} members, {c['categories']} categories, {c['tags']} tags, "
          f"{c['topics']} topics, {c['posts']} posts, {c['votes']} votes, {c['solved']} solved questions")
    print(f"topics     discussion {ids['discussion_topic_id']} ({ids['discussion_posts']} posts), "
          f"question {ids['question_topic_id']} ({ids['question_answers']} answers, "
          f"accepted post {ids['question_accepted_post_id']})")
    print(f"time       {s['total']:.1f} s (schema {s['schema']:.1f} s, rows {s['build_rows']:.1f} s, "
          f"inserts {s['insert']:.1f} s)")
    print(f"ids        {args.ids}")


if __name__ == "__main__":
    main()
