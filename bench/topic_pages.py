"""Load-test the topic list, a 50-post topic page and a question page against a bare route.

    .venv/bin/python bench/generate.py          # once: bench/results/bench.db + ids.json
    .venv/bin/python bench/topic_pages.py       # serve under gunicorn, measure with wrk

One gunicorn (bench/app.py: the portal plus `/bench/bare`) serves every
route with the same settings, bound to 127.0.0.1 on a free port. The bare
route renders a trivial template of exactly the topic page's size with no
database work. wrk measures each route for the same time, interleaved in
rounds (bare, list, topic, question, bare, ...) so that machine noise hits
all of them alike. Per route the table shows the median over the rounds of
requests per second, p50 and p99 latency, and req/s as a share of the bare
route's. The target: the topic page serves at least 0.35 of the bare route.
Results go to bench/results/topic_pages.json.
"""
import argparse
import json
import os
import platform
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from datetime import UTC, datetime
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
ROOT = BENCH_DIR.parent
RESULTS = BENCH_DIR / "results"
TARGET = 0.35
POSTS_PER_PAGE = 50


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def fetch(url, timeout=30):
    """(status, body bytes) of one GET; HTTP errors are answers too."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as resp:
            return resp.status, resp.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


class Server:
    """gunicorn serving bench.app:app on 127.0.0.1; always stopped on exit."""

    def __init__(self, db_path, args, workdir):
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
        self.cmd = [str(gunicorn), "--bind", f"127.0.0.1:{self.port}", "--workers", str(args.workers),
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
                if fetch(self.base + "/bench/bare?bytes=2000", timeout=2)[0] == 200:
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


def run_wrk(url, duration, args):
    cmd = [args.wrk, f"-t{args.wrk_threads}", f"-c{args.connections}", f"-d{duration}s", "--latency",
           "--timeout", "10s", url]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    return parse_wrk(out)


def wait_for_pages(server, urls, wait_minutes):
    """Poll until every page answers 200 (the views may still be under construction)."""
    deadline = time.monotonic() + wait_minutes * 60
    while True:
        statuses = {name: fetch(server.base + path)[0] for name, path in urls.items()}
        missing = {name: status for name, status in statuses.items() if status != 200}
        if not missing:
            return
        if time.monotonic() >= deadline:
            raise SystemExit(f"pages not ready: {missing}\n{server.log_tail(15)}")
        print(f"waiting for pages {missing}; retrying in 60 s", flush=True)
        time.sleep(60)


def measure(args):
    ids = json.loads(Path(args.ids).read_text())
    db_path = Path(args.db or ids["database"]).resolve()
    if not db_path.exists():
        raise SystemExit(f"{db_path} does not exist: run bench/generate.py first")
    pages = {
        "topic list": "/latest",
        "topic (50 posts)": f"/t/{ids['discussion_topic_id']}",
        "question (50 answers)": f"/t/{ids['question_topic_id']}",
    }
    workdir = Path(tempfile.mkdtemp(prefix="teahouse-bench-"))
    load_before = os.getloadavg()
    server = Server(db_path, args, workdir)
    try:
        server.start()
        wait_for_pages(server, pages, args.wait_minutes)
        sizes = {name: len(fetch(server.base + path)[1]) for name, path in pages.items()}
        bare_path = f"/bench/bare?bytes={sizes['topic (50 posts)']}&rows={POSTS_PER_PAGE}"
        status, body = fetch(server.base + bare_path)
        if status != 200:
            raise SystemExit(f"bare route answered {status}")
        routes = {"bare": bare_path, **pages}
        sizes = {"bare": len(body), **sizes}
        print(f"gunicorn {args.worker_class} workers={args.workers} threads={args.gthreads} on {server.base}; "
              f"wrk -t{args.wrk_threads} -c{args.connections} -d{args.duration}s x {args.rounds} rounds")
        for name, path in routes.items():
            print(f"  {name:<22} {path}  ({sizes[name]:,} bytes)")

        for path in routes.values():  # warm every worker and thread, and SQLite's page cache
            run_wrk(server.base + path, args.warmup, args)
        rounds = []
        for r in range(args.rounds):
            one = {}
            for name, path in routes.items():
                one[name] = run_wrk(server.base + path, args.duration, args)
                res = one[name]
                print(f"  round {r + 1} {name:<22} {res['rps']:8.1f} req/s  p50 {res['p50_ms']:7.2f} ms  "
                      f"p99 {res['p99_ms']:7.2f} ms", flush=True)
            rounds.append(one)
    finally:
        server.stop()
        log = server.log_tail(200)
        shutil.rmtree(workdir, ignore_errors=True)

    summary = {}
    for name in routes:
        runs = [one[name] for one in rounds]
        summary[name] = {
            "path": routes[name],
            "bytes": sizes[name],
            "rps": statistics.median(r["rps"] for r in runs),
            "p50_ms": statistics.median(r["p50_ms"] for r in runs),
            "p99_ms": statistics.median(r["p99_ms"] for r in runs),
            "non_2xx": sum(r["non_2xx"] for r in runs),
            "socket_errors": sum(r["socket_errors"] for r in runs),
            # ratio of each round to the bare run of the same round, to show the spread
            "round_ratios": [round(one[name]["rps"] / one["bare"]["rps"], 3) for one in rounds],
            "rounds": runs,
        }
    bare_rps = summary["bare"]["rps"]
    for row in summary.values():
        row["ratio"] = row["rps"] / bare_rps
    topic_ratio = summary["topic (50 posts)"]["ratio"]
    result = {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform(),
                    # other work on the machine moves absolute figures: the 1-minute load before and after
                    "loadavg_before": round(load_before[0], 2), "loadavg_after": round(os.getloadavg()[0], 2)},
        "server": {"worker_class": args.worker_class, "workers": args.workers, "threads": args.gthreads,
                   "posts_per_page": POSTS_PER_PAGE, "database": str(db_path)},
        "load": {"tool": "wrk", "threads": args.wrk_threads, "connections": args.connections,
                 "duration_s": args.duration, "rounds": args.rounds, "warmup_s": args.warmup},
        "data": ids.get("counts"),
        "routes": summary,
        "target": {"topic_ratio_min": TARGET, "topic_ratio": round(topic_ratio, 3), "pass": topic_ratio >= TARGET},
    }
    print_table(result)
    errors = sum(r["non_2xx"] + r["socket_errors"] for r in summary.values())
    if errors:
        print(f"warning: {errors} non-2xx responses or socket errors; gunicorn log:\n{log}")
    return result


def print_table(result):
    print()
    print(f"{'route':<24}{'bytes':>9}{'req/s':>10}{'p50 ms':>9}{'p99 ms':>9}{'ratio':>8}   per-round ratios")
    for name, row in result["routes"].items():
        spread = " ".join(f"{r:.3f}" for r in row["round_ratios"])
        print(f"{name:<24}{row['bytes']:>9,}{row['rps']:>10.1f}{row['p50_ms']:>9.2f}{row['p99_ms']:>9.2f}"
              f"{row['ratio']:>8.3f}   {spread}")
    target = result["target"]
    machine = result["machine"]
    print(f"(1-minute load average {machine['loadavg_before']} before, {machine['loadavg_after']} after; "
          f"{machine['cpus']} CPUs)")
    verdict = "PASS" if target["pass"] else "FAIL"
    print(f"\n{verdict}: topic page at {target['topic_ratio']:.3f} of the bare route (target >= {TARGET})")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ids", default=str(RESULTS / "ids.json"), help="written by bench/generate.py")
    parser.add_argument("--db", help="database file (default: the one named in ids.json)")
    parser.add_argument("--out", default=str(RESULTS / "topic_pages.json"))
    parser.add_argument("--duration", type=int, default=10, help="seconds per route and round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--warmup", type=int, default=2, help="seconds of warm-up per route")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--wrk-threads", type=int, default=2)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", dest="gthreads", type=int, default=4, help="gunicorn threads per worker")
    parser.add_argument("--worker-class", default="gthread")
    parser.add_argument("--wait-minutes", type=float, default=0,
                        help="keep polling this long for pages that do not answer 200 yet")
    parser.add_argument("--wrk", default=shutil.which("wrk") or "wrk")
    args = parser.parse_args(argv)
    if not shutil.which(args.wrk):
        raise SystemExit("wrk is not installed: apt-get install -y wrk")
    result = measure(args)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(result, indent=2) + "\n")
    print(f"results written to {args.out}")
    return 0 if result["target"]["pass"] else 1


if __name__ == "__main__":
    sys.exit(main())
