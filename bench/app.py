"""The WSGI app the load test serves: the portal as `wsgi.py` builds it, plus one bare route.

    gunicorn bench.app:app        (from the repository root)

`/bench/bare?bytes=N&rows=R` renders bench/templates/bare.html through
Flask's ordinary render_template (context processors, template signals,
after-request hooks, security headers, all as for a real page), looping over
R rows of plain text whose total output is exactly N bytes. It touches no
database and no session, so it is the ceiling a page of N bytes could reach
on this server: the load test sizes it to the measured topic page.

The template is a file, loaded once and cached by Jinja like every project
template; render_template_string would recompile it on every request and
make the baseline look slower than it is.
"""
from functools import lru_cache
from pathlib import Path

from flask import abort, render_template, request
from jinja2 import ChoiceLoader, FileSystemLoader, PrefixLoader

from portal import create_app

BENCH_TEMPLATES = Path(__file__).resolve().parent / "templates"
TEMPLATE = "bench/bare.html"
MAX_BYTES = 5_000_000

app = create_app()
app.jinja_loader = ChoiceLoader([app.jinja_loader, PrefixLoader({"bench": FileSystemLoader(BENCH_TEMPLATES)})])


@lru_cache(maxsize=16)
def bare_rows(size, rows):
    """`rows` strings of ASCII letters that make the bare template render exactly `size` bytes."""
    with app.test_request_context():
        overhead = len(render_template(TEMPLATE, rows=[""] * rows).encode())
    text = size - overhead
    if text < rows:
        raise ValueError(f"{size} bytes is too small for {rows} rows (the template alone is {overhead})")
    base, extra = divmod(text, rows)
    alphabet = "abcdefghijklmnopqrstuvwxyz "
    line = (alphabet * (base // len(alphabet) + 2))
    return tuple(line[i % 7:i % 7 + base + (1 if i < extra else 0)].strip().ljust(base + (1 if i < extra else 0), "x")
                 for i in range(rows))


@app.get("/bench/bare")
def bench_bare():
    size = request.args.get("bytes", 60_000, type=int)
    rows = request.args.get("rows", 50, type=int)
    if not (0 < rows <= 10_000 and 0 < size <= MAX_BYTES):
        abort(400)
    try:
        data = bare_rows(size, rows)
    except ValueError:
        abort(400)
    return render_template(TEMPLATE, rows=data)
