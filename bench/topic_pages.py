"""Load-test the community's reading pages, for visitors and a signed-in member, against a bare route.

    .venv/bin/python bench/generate.py          # once: bench/results/bench.db + ids.json
    .venv/bin/python bench/topic_pages.py       # serve under gunicorn, measure with wrk

One gunicorn (bench/app.py: the portal plus `/bench/bare`) serves every
route with the same settings, bound to 127.0.0.1 on a free port. The bare
route, the reference every ratio is taken against, renders a trivial
template of exactly the visitor topic page's size with no database work.

Routes: the 50-post discussion topic (visitor and member), the question with
50 answers (visitor), `/latest`, the home page `/` and the discussion's
category page `/c/<slug>` (each as visitor and as member). The members
(`--members`, eight by default, all at the first level, as most of a
community is) are each signed in over HTTP once (GET /login for the CSRF
token, POST /login), and wrk sends their session cookies in turn, request
after request (a Lua script), so a member's page is what the server has for
members alike, not one member's page seen again.

wrk measures each route for the same time, interleaved in rounds (bare, then
every page, then bare again, ...) so that machine noise hits all of them
alike. Per route the table shows the median over the rounds of requests per
second, p50 and p99 latency, req/s as a share of the bare route's, and each
round's own share. Targets (issue 15), for every page but the visitor
question page: at least 0.35 of the bare route's req/s and p50 <= 100 ms.
Results go to bench/results/topic_pages.json; the exit status is 1 when a
target is missed (unless --no-fail).
"""
import argparse
import html
import http.client
import json
import os
import platform
import re
import shutil
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
from datetime import UTC, datetime
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
ROOT = BENCH_DIR.parent
RESULTS = BENCH_DIR / "results"
TARGET_RATIO = 0.35     # req/s as a share of the bare route's
TARGET_P50_MS = 100.0   # median latency under the bench load
POSTS_PER_PAGE = 50
BARE = "bare"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def http_request(base, path, *, method="GET", cookie=None, form=None, timeout=30):
    """(status, headers, body bytes) of one request; no redirects followed, HTTP errors are answers too."""
    parsed = urllib.parse.urlsplit(base)
    conn = http.client.HTTPConnection(parsed.hostname, parsed.port, timeout=timeout)
    headers = {}
    body = None
    if cookie:
        headers["Cookie"] = cookie
    if form is not None:
        body = urllib.parse.urlencode(form)
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    try:
        conn.request(method, path, body=body, headers=headers)
        resp = conn.getresponse()
        return resp.status, resp.headers, resp.read()
    finally:
        conn.close()


def fetch(base, path, cookie=None, timeout=30):
    status, _, body = http_request(base, path, cookie=cookie, timeout=timeout)
    return status, body


def session_cookie(headers):
    """The `session=...` pair a response sets, or None."""
    for value in headers.get_all("Set-Cookie") or []:
        pair = value.split(";", 1)[0].strip()
        if pair.startswith("session="):
            return pair
    return None


class Server:
    """A gunicorn of one worker serving bench.app:app on 127.0.0.1; always stopped on exit."""

    def __init__(self, db_path, args, workdir):
        workdir.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log = workdir / "gunicorn.log"
        self.env = {
            **os.environ,
            "DATABASE_URL": f"sqlite:///{db_path}",
            "RATELIMIT_ENABLED": "0",
            "INSTANCE_DIR": str(workdir / "instance"),
            "SEARCH_INDEX_DIR": str(workdir / "search"),
            "SECRET_KEY": "bench-secret-key-not-for-production",
            "POSTS_PER_PAGE": str(POSTS_PER_PAGE),
            "PYTHONDONTWRITEBYTECODE": "1",
        }
        gunicorn = ROOT / ".venv" / "bin" / "gunicorn"
        self.cmd = [str(gunicorn), "--bind", f"127.0.0.1:{self.port}", "--workers", "1",
                    "--worker-class", args.worker_class, "--threads", str(args.gthreads),
                    "--backlog", "2048", "--keep-alive", "5", "--log-level", "warning",
                    "--error-logfile", str(self.log), "bench.app:app"]
        self.proc = None

    def start(self, timeout=60):
        self.proc = subprocess.Popen(self.cmd, cwd=ROOT, env=self.env, start_new_session=True,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"gunicorn exited with {self.proc.returncode}:\n{self.log_tail()}")
            try:
                if fetch(self.base, "/bench/bare?bytes=2000", timeout=2)[0] == 200:
                    return
            except OSError:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"gunicorn did not answer within {timeout} s:\n{self.log_tail()}")

    def stop(self):
        if self.proc is None or self.proc.poll() is not None:
            return
        os.killpg(self.proc.pid, signal.SIGTERM)  # the arbiter and its workers: the group we started
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()

    def log_tail(self, lines=40):
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"


_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}


def _ms(text):
    match = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text)
    return float(match.group(1)) * _UNITS[match.group(2)]


def parse_wrk(output):
    rps = re.search(r"Requests/sec:\s+([\d.]+)", output)
    p50 = re.search(r"^\s+50%\s+(\S+)", output, re.M)
    p99 = re.search(r"^\s+99%\s+(\S+)", output, re.M)
    total = re.search(r"(\d+) requests in", output)
    if not (rps and p50 and p99 and total):
        raise RuntimeError(f"could not read wrk's output:\n{output}")
    non_2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", output)
    errors = re.search(r"Socket errors:\s+connect (\d+), read (\d+), write (\d+), timeout (\d+)", output)
    return {
        "rps": float(rps.group(1)),
        "p50_ms": _ms(p50.group(1)),
        "p99_ms": _ms(p99.group(1)),
        "requests": int(total.group(1)),
        "non_2xx": int(non_2xx.group(1)) if non_2xx else 0,
        "socket_errors": sum(int(n) for n in errors.groups()) if errors else 0,
    }


# Each request carries the next member's cookie (wrk runs one copy of this per thread).
ROTATE_COOKIES_LUA = """
local cookies = {%s}
local sent = 0
request = function()
  sent = sent + 1
  wrk.headers["Cookie"] = cookies[(sent %% #cookies) + 1]
  return wrk.format()
end
"""


def run_wrk(urls, duration, args, cookies=None):
    """wrk's figures for the same path on each server of `urls`, loaded at once, one wrk each with its share
    of the connections: requests/s and requests added up, p50 and p99 the worst of them. With `cookies` (a
    list), each request sends the next one."""
    share = max(1, args.connections // len(urls))
    cmd = [args.wrk, f"-t{max(1, args.wrk_threads // len(urls))}", f"-c{share}", f"-d{duration}s", "--latency",
           "--timeout", "10s"]
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(ROTATE_COOKIES_LUA % ", ".join(json.dumps(cookie) for cookie in cookies or []))
    try:
        if cookies:
            cmd += ["-s", script.name]
        running = [subprocess.Popen(cmd + [url], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                   for url in urls]
        outputs = [process.communicate() for process in running]
    finally:
        os.unlink(script.name)
    for process, (_out, err) in zip(running, outputs, strict=True):
        if process.returncode != 0:
            raise RuntimeError(f"wrk exited with {process.returncode}: {err}")
    each = [parse_wrk(out) for out, _err in outputs]
    return {"rps": sum(r["rps"] for r in each), "p50_ms": max(r["p50_ms"] for r in each),
            "p99_ms": max(r["p99_ms"] for r in each), "requests": sum(r["requests"] for r in each),
            "non_2xx": sum(r["non_2xx"] for r in each), "socket_errors": sum(r["socket_errors"] for r in each)}


def wait_for_pages(server, paths, wait_minutes):
    """Poll until every visitor page answers 200 (the views may still be under construction)."""
    deadline = time.monotonic() + wait_minutes * 60
    while True:
        statuses = {path: fetch(server.base, path)[0] for path in paths}
        missing = {path: status for path, status in statuses.items() if status != 200}
        if not missing:
            return
        if time.monotonic() >= deadline:
            raise SystemExit(f"pages not ready: {missing}\n{server.log_tail(15)}")
        print(f"waiting for pages {missing}; retrying in 60 s", flush=True)
        time.sleep(60)


def bench_facts(db_path, ids, members):
    """{email: display name} of the first `members` bench members and the slug of the discussion topic's
    category, from the database."""
    emails = ids.get("member_emails", [ids["member_email"]])[:members]
    with sqlite3.connect(f"file:{db_path}?mode=ro", uri=True) as conn:
        names = {email: conn.execute("SELECT name FROM users WHERE email = ?", (email,)).fetchone()
                 for email in emails}
        slug = conn.execute("SELECT c.slug FROM topics t JOIN categories c ON c.id = t.category_id "
                            "WHERE t.id = ?", (ids["discussion_topic_id"],)).fetchone()
    if not all(names.values()) or not slug or len(names) < members:
        raise SystemExit(f"{db_path} lacks {members} bench members or the discussion's category: "
                         "re-run bench/generate.py")
    return {email: row[0] for email, row in names.items()}, slug[0]


def signed_in(body, member_name):
    """Whether a page is a signed-in one: it names the member and offers no "Sign in" link."""
    text = body.decode("utf-8", errors="replace")
    return html.escape(member_name) in text and 'href="/login"' not in text


def sign_in(server, email, password):
    """The `session=...` cookie of the bench member, signed in through the login form."""
    status, headers, body = http_request(server.base, "/login")
    if status != 200:
        raise SystemExit(f"GET /login answered {status}")
    token = re.search(rb'name="csrf_token"[^>]*\bvalue="([^"]+)"', body) or \
        re.search(rb'value="([^"]+)"[^>]*name="csrf_token"', body)
    cookie = session_cookie(headers)
    if not token or not cookie:
        raise SystemExit("GET /login gave no csrf_token field or no session cookie")
    form = {"email": email, "password": password, "csrf_token": html.unescape(token.group(1).decode())}
    status, headers, _ = http_request(server.base, "/login", method="POST", cookie=cookie, form=form)
    cookie = session_cookie(headers) or cookie
    if status != 302:
        raise SystemExit(f"POST /login answered {status} (expected 302): wrong password or CSRF token?\n"
                         f"{server.log_tail(15)}")
    return cookie


def warm_member_page(server, path, cookie, member_name):
    """One signed-in request (the day's first records a visit), then check the page is 200 and signed in.
    Returns the cookie to use from now on (a response may have rewritten the session)."""
    for _ in range(2):
        status, headers, body = http_request(server.base, path, cookie=cookie)
        cookie = session_cookie(headers) or cookie
    if status != 200:
        raise SystemExit(f"signed-in {path} answered {status}\n{server.log_tail(15)}")
    if not signed_in(body, member_name):
        raise SystemExit(f"signed-in {path} does not look signed in (no {member_name!r}, or a Sign in link)")
    return cookie


def measure(args):
    ids = json.loads(Path(args.ids).read_text())
    db_path = Path(args.db or ids["database"]).resolve()
    if not db_path.exists():
        raise SystemExit(f"{db_path} does not exist: run bench/generate.py first")
    members, slug = bench_facts(db_path, ids, args.members)
    topic, question = f"/t/{ids['discussion_topic_id']}", f"/t/{ids['question_topic_id']}"
    # name: (path, signed in, has the targets)
    pages = {
        "visitor topic (50 posts)": (topic, False, True),
        "visitor question (50 ans.)": (question, False, False),
        "member topic (50 posts)": (topic, True, True),
        "visitor /latest": ("/latest", False, True),
        "member /latest": ("/latest", True, True),
        "visitor /": ("/", False, True),
        "member /": ("/", True, True),
        f"visitor /c/{slug}": (f"/c/{slug}", False, True),
        f"member /c/{slug}": (f"/c/{slug}", True, True),
    }
    if args.only:
        wanted = [w.strip() for w in args.only.split(",") if w.strip()]
        pages = {name: page for name, page in pages.items() if any(w in name for w in wanted)}
        if not pages:
            raise SystemExit(f"--only {args.only!r} matches no route")
    n_routes = len(pages) + 1
    estimate = n_routes * (args.rounds * args.duration + args.warmup) + 15
    print(f"{n_routes} routes x {args.rounds} rounds x {args.duration} s + {args.warmup} s warm-up each: "
          f"about {estimate / 60:.1f} min", flush=True)

    workdir = Path(tempfile.mkdtemp(prefix="teahouse-bench-"))
    load_before = os.getloadavg()
    started = time.monotonic()
    # One gunicorn of one worker per --workers, each on its port with its share of wrk's connections: the
    # workers of one gunicorn share its socket, and who accepts wrk's 16 keep-alive connections is a race
    # (seen: 8/8, 12/4, and 16/0, which leaves a core idle and halves a run's req/s at random).
    servers = [Server(db_path, args, workdir / f"server{n}") for n in range(args.workers)]
    server = servers[0]  # signs the members in (the sessions are in the database, valid on every server)
    try:
        for one in servers:
            one.start()
        wait_for_pages(server, {path for path, member, _ in pages.values() if not member} | {topic},
                       args.wait_minutes)
        signed_in_cookies = {}  # {email: cookie}
        if any(member for _, member, _ in pages.values()):
            for email, name in members.items():
                cookie = sign_in(server, email, ids["member_password"])
                for path, member, _ in pages.values():
                    if member:
                        cookie = warm_member_page(server, path, cookie, name)
                signed_in_cookies[email] = cookie
        cookies = {name: (list(signed_in_cookies.values()) if member else None)
                   for name, (_, member, _) in pages.items()}

        sizes = {}
        for name, (path, _, _) in pages.items():  # the warm-up request of each page, and its size
            status, body = fetch(server.base, path, cookie=(cookies[name] or [None])[0])
            if status != 200:
                raise SystemExit(f"{name} {path} answered {status}")
            sizes[name] = len(body)
        reference_size = len(fetch(server.base, topic)[1])  # the visitor topic page
        bare_path = f"/bench/bare?bytes={reference_size}&rows={POSTS_PER_PAGE}"
        status, body = fetch(server.base, bare_path)
        if status != 200:
            raise SystemExit(f"bare route answered {status}")
        routes = {BARE: bare_path, **{name: path for name, (path, _, _) in pages.items()}}
        cookies[BARE] = None
        sizes = {BARE: len(body), **sizes}
        print(f"{args.workers} x gunicorn {args.worker_class} of 1 worker, threads={args.gthreads}, on "
              f"{', '.join(one.base for one in servers)}; wrk -t{args.wrk_threads} -c{args.connections} "
              f"-d{args.duration}s in all, x {args.rounds} rounds; "
              f"{len(members)} members in turn ({', '.join(members.values())})")
        for name, path in routes.items():
            print(f"  {name:<28} {path}  ({sizes[name]:,} bytes)")

        for name, path in routes.items():  # warm every worker and thread, and SQLite's page cache
            run_wrk([one.base + path for one in servers], args.warmup, args, cookies[name])
        rounds = []
        for r in range(args.rounds):
            one = {}
            for name, path in routes.items():
                one[name] = res = run_wrk([each.base + path for each in servers], args.duration, args, cookies[name])
                print(f"  round {r + 1} {name:<28} {res['rps']:8.1f} req/s  p50 {res['p50_ms']:7.2f} ms  "
                      f"p99 {res['p99_ms']:7.2f} ms", flush=True)
            rounds.append(one)
        still_signed_in = True
        for email, cookie in signed_in_cookies.items():  # each cookie must still open its member's pages
            status, body = fetch(server.base, "/latest", cookie=cookie)
            still_signed_in = still_signed_in and status == 200 and signed_in(body, members[email])
    finally:
        for one in servers:
            one.stop()
        log = "\n".join(one.log_tail(100) for one in servers)
        shutil.rmtree(workdir, ignore_errors=True)
    elapsed = time.monotonic() - started

    summary = {}
    for name in routes:
        runs = [one[name] for one in rounds]
        summary[name] = {
            "path": routes[name],
            "signed_in": bool(cookies[name]),
            "bytes": sizes[name],
            "rps": statistics.median(r["rps"] for r in runs),
            "p50_ms": statistics.median(r["p50_ms"] for r in runs),
            "p99_ms": statistics.median(r["p99_ms"] for r in runs),
            "non_2xx": sum(r["non_2xx"] for r in runs),
            "socket_errors": sum(r["socket_errors"] for r in runs),
            # ratio of each round to the bare run of the same round, to show the spread
            "round_ratios": [round(one[name]["rps"] / one[BARE]["rps"], 3) for one in rounds],
            "rounds": runs,
        }
    bare_rps = summary[BARE]["rps"]
    for name, row in summary.items():
        row["ratio"] = round(row["rps"] / bare_rps, 4)
        targeted = name in pages and pages[name][2]
        if targeted:
            ratio_ok, p50_ok = row["ratio"] >= TARGET_RATIO, row["p50_ms"] <= TARGET_P50_MS
            ok = ratio_ok and p50_ok and row["non_2xx"] == 0 and row["socket_errors"] == 0
            row["target"] = {"ratio_min": TARGET_RATIO, "ratio_ok": ratio_ok, "p50_max_ms": TARGET_P50_MS,
                             "p50_ok": p50_ok, "pass": ok}
        else:
            row["target"] = None
    missed = [name for name, row in summary.items() if row["target"] and not row["target"]["pass"]]
    if not still_signed_in:
        missed.append("(member session lost during the run)")
    result = {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "seconds": round(elapsed, 1),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform(),
                    # other work on the machine moves absolute figures: the 1-minute load before and after
                    "loadavg_before": round(load_before[0], 2), "loadavg_after": round(os.getloadavg()[0], 2)},
        "server": {"worker_class": args.worker_class, "servers_of_one_worker": args.workers, "threads": args.gthreads,
                   "posts_per_page": POSTS_PER_PAGE, "database": str(db_path)},
        "load": {"tool": "wrk", "threads": args.wrk_threads, "connections": args.connections,
                 "duration_s": args.duration, "rounds": args.rounds, "warmup_s": args.warmup},
        "reference": {"route": BARE, "path": bare_path, "sized_to": "visitor topic (50 posts)"},
        "members": {"signed_in": members, "still_signed_in_after": still_signed_in},
        "data": ids.get("counts"),
        "routes": summary,
        "targets": {"ratio_min": TARGET_RATIO, "p50_max_ms": TARGET_P50_MS, "missed": missed,
                    "pass": not missed},
    }
    print_table(result)
    errors = sum(r["non_2xx"] + r["socket_errors"] for r in summary.values())
    if errors:
        print(f"warning: {errors} non-2xx responses or socket errors; gunicorn log:\n{log}")
    return result


def _verdict(row):
    target = row["target"]
    if target is None:
        return "—"
    if target["pass"]:
        return "yes"
    why = [w for w, ok in (("ratio", target["ratio_ok"]), ("p50", target["p50_ok"])) if not ok]
    if row["non_2xx"] or row["socket_errors"]:
        why.append("errors")
    return "**no** (" + ", ".join(why) + ")"


def print_table(result):
    print()
    print("| route | path | bytes | req/s | p50 ms | p99 ms | ratio to bare | per-round ratios | target met |")
    print("|---|---|---:|---:|---:|---:|---:|---|---|")
    for name, row in result["routes"].items():
        spread = " ".join(f"{r:.3f}" for r in row["round_ratios"])
        print(f"| {name} | `{row['path']}` | {row['bytes']:,} | {row['rps']:.1f} | {row['p50_ms']:.2f} | "
              f"{row['p99_ms']:.2f} | {row['ratio']:.3f} | {spread} | {_verdict(row)} |")
    machine = result["machine"]
    print(f"\n(1-minute load average {machine['loadavg_before']} before, {machine['loadavg_after']} after; "
          f"{machine['cpus']} CPUs; {result['seconds']:.0f} s)")
    targets = result["targets"]
    rule = f"ratio >= {targets['ratio_min']} and p50 <= {targets['p50_max_ms']:.0f} ms"
    if targets["pass"]:
        print(f"\nPASS: every targeted page meets {rule}")
    else:
        print(f"\nFAIL ({rule}): " + "; ".join(targets["missed"]))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ids", default=str(RESULTS / "ids.json"), help="written by bench/generate.py")
    parser.add_argument("--db", help="database file (default: the one named in ids.json)")
    parser.add_argument("--out", default=str(RESULTS / "topic_pages.json"))
    parser.add_argument("--duration", type=int, default=6, help="seconds per route and round")
    parser.add_argument("--rounds", type=int, default=5, help="interleaved rounds; the table gives each route's median")
    parser.add_argument("--warmup", type=int, default=2, help="seconds of wrk warm-up per route")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--wrk-threads", type=int, default=2)
    parser.add_argument("--workers", type=int, default=2, help="gunicorn servers of one worker each, side by side")
    parser.add_argument("--threads", dest="gthreads", type=int, default=4, help="gunicorn threads per worker")
    parser.add_argument("--worker-class", default="gthread")
    parser.add_argument("--members", type=int, default=8, help="signed-in members whose cookies wrk sends in turn")
    parser.add_argument("--only", help="comma-separated parts of route names to measure (the bare route always), "
                                       "e.g. 'member' or '/latest,topic'")
    parser.add_argument("--no-fail", action="store_true", help="exit 0 even when a target is missed")
    parser.add_argument("--wait-minutes", type=float, default=0,
                        help="keep polling this long for pages that do not answer 200 yet")
    parser.add_argument("--wrk", default=shutil.which("wrk") or "wrk")
    args = parser.parse_args(argv)
    if not shutil.which(args.wrk):
        raise SystemExit("wrk is not installed: apt-get install -y wrk")
    if args.rounds < 3:
        print("note: fewer than 3 rounds; the issue's figures are medians of at least 3")
    result = measure(args)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(result, indent=2) + "\n")
    print(f"results written to {args.out}")
    return 0 if result["targets"]["pass"] or args.no_fail else 1


if __name__ == "__main__":
    sys.exit(main())
