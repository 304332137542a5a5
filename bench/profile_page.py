"""Where a page's time goes, in-process over the Flask test client (no server, no load).

    .venv/bin/python bench/profile_page.py [PATH ...] [--requests 40] [--top 30]

PATH defaults to the 50-post topic page and the question page of
bench/results/ids.json, plus the bare route of the same size; --member
signs in as the bench member first (a visitor otherwise). For each
path it prints the mean time per request, the split between loading
(community.pages.topic_page / topics.topic_list), rendering
(flask.render_template) and the rest, the SQL statements one request runs,
and cProfile's heaviest functions. Then it renders each piece of a post card
(dates, level badge, avatar, gettext, url_for) 50 times in a loop, so each
piece's cost per page can be read off directly.
"""
import argparse
import atexit
import cProfile
import io
import json
import os
import pstats
import shutil
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
ROOT = BENCH_DIR.parent
sys.path.insert(0, str(ROOT))
IDS = json.loads((BENCH_DIR / "results" / "ids.json").read_text())

os.environ.setdefault("DATABASE_URL", f"sqlite:///{IDS['database']}")
if "INSTANCE_DIR" not in os.environ:
    os.environ["INSTANCE_DIR"] = tempfile.mkdtemp(prefix="teahouse-bench-instance-")
    atexit.register(shutil.rmtree, os.environ["INSTANCE_DIR"], True)
os.environ.setdefault("SECRET_KEY", "bench-secret-key-not-for-production")
os.environ.setdefault("POSTS_PER_PAGE", "50")
os.environ["RATELIMIT_ENABLED"] = "0"

import sqlalchemy as sa  # noqa: E402

from bench.app import app  # noqa: E402
from portal.extensions import db  # noqa: E402

PHASES = defaultdict(float)


def _timed(owner, name, phase):
    original = getattr(owner, name, None)
    if original is None:  # renamed or gone: that phase is simply not shown
        return

    def wrapper(*args, **kwargs):
        started = time.perf_counter()
        try:
            return original(*args, **kwargs)
        finally:
            PHASES[phase] += time.perf_counter() - started

    setattr(owner, name, wrapper)


def instrument():
    """Time the loading and rendering phases by wrapping the functions the views call."""
    from portal.community import cards, lists, pages, views

    _timed(pages, "topic_page", "load (pages.topic_page, lists.topic_page)")
    _timed(lists, "topic_page", "load (pages.topic_page, lists.topic_page)")
    _timed(lists, "topic_rows", "rows (lists.topic_rows)")
    _timed(cards, "post_cards", "cards (cards.post_cards)")
    _timed(views, "render_template", "render (render_template)")


def profile_path(client, path, requests, top):
    for _ in range(3):
        response = client.get(path)
    statements = []

    def on_execute(conn, cursor, statement, params, context, executemany):
        statements.append(" ".join(statement.split()))

    with app.app_context():
        engine = db.engine
    sa.event.listen(engine, "before_cursor_execute", on_execute)
    client.get(path)
    sa.event.remove(engine, "before_cursor_execute", on_execute)

    PHASES.clear()
    started = time.perf_counter()
    for _ in range(requests):
        response = client.get(path)
    total = (time.perf_counter() - started) / requests * 1000
    print(f"\n=== {path}: HTTP {response.status_code}, {len(response.data):,} bytes, "
          f"{total:.1f} ms per request (no profiler), {len(statements)} SQL statements")
    for phase, seconds in sorted(PHASES.items()):
        ms = seconds / requests * 1000
        print(f"    {phase:<44}{ms:7.1f} ms  {ms / total:5.0%}")
    for statement in statements:
        print(f"    SQL {statement[:150]}")

    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(requests):
        client.get(path)
    profiler.disable()
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out)
    stats.sort_stats(os.environ.get("PROFILE_SORT", "tottime")).print_stats(top)
    print("\n".join(line for line in out.getvalue().splitlines()[4:] if line.strip()))


def helper_costs(per_page):
    """What each piece of a post card costs on a page of `per_page` cards: a template that loops
    `per_page` times over just that piece, minus the same empty loop."""
    from portal.community.models import Post

    pieces = {
        "(empty loop)": "",
        "when(post.created_at)  [datetimeformat + ago]": "{{ when(p.created_at) }}",
        "p.created_at|datetimeformat('medium')": "{{ p.created_at|datetimeformat('medium') }}",
        "p.created_at|ago": "{{ p.created_at|ago }}",
        "level_badge(author)": "{{ level_badge(p.author) }}",
        "avatar(author, 'md')": "{{ avatar(p.author, 'md') }}",
        "_('Vote up')": "{{ _('Vote up') }}",
        "url_for('auth.member', user_id=..)": "{{ url_for('auth.member', user_id=p.author_id) }}",
        "p.html|safe": "{{ p.html|safe }}",
    }
    head = ('{% from "_macros.html" import avatar, level_badge %}'
            '{% from "community/_macros.html" import when %}')
    print(f"\n=== a post card's pieces, x{per_page} (one per card), rendered in a loop")
    with app.test_request_context("/"):
        posts = db.session.scalars(sa.select(Post).where(Post.number > 1).limit(per_page)
                                   .options(sa.orm.joinedload(Post.author))).unique().all()
        base = None
        for name, piece in pieces.items():
            try:
                template = app.jinja_env.from_string(head + "{% for p in posts %}" + piece + "{% endfor %}")
                template.render(posts=posts)
            except Exception as exc:  # a macro renamed or gone: report, keep going
                print(f"    {name:<46} n/a ({type(exc).__name__}: {exc})")
                continue
            n = 40
            started = time.perf_counter()
            for _ in range(n):
                template.render(posts=posts)
            ms = (time.perf_counter() - started) / n * 1000
            if base is None:
                base = ms
                print(f"    {name:<46}{ms:7.2f} ms")
            else:
                print(f"    {name:<46}{ms - base:7.2f} ms")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("paths", nargs="*")
    parser.add_argument("--requests", type=int, default=40)
    parser.add_argument("--top", type=int, default=30)
    parser.add_argument("--member", action="store_true",
                        help="signed in as the bench member (ids.json) instead of a visitor")
    args = parser.parse_args()
    paths = args.paths or [f"/t/{IDS['discussion_topic_id']}", f"/t/{IDS['question_topic_id']}"]
    instrument()
    if args.member:
        app.config["WTF_CSRF_ENABLED"] = False  # only for signing in here
        client = app.test_client()
        signed_in = client.post("/login", data={"email": IDS["member_email"], "password": IDS["member_password"]})
        assert signed_in.status_code == 302, signed_in.status_code
    else:
        client = app.test_client(use_cookies=False)  # every request an anonymous first visit, as under wrk
    if not args.paths:
        size = len(client.get(paths[0]).data)
        paths.append(f"/bench/bare?bytes={size}&rows=50")
    for path in paths:
        profile_path(client, path, args.requests, args.top)
    helper_costs(int(os.environ["POSTS_PER_PAGE"]))


if __name__ == "__main__":
    main()
