"""A reader's own bits of a page, filled in as the response leaves.

A page shows mostly what every reader of its kind sees (the posts, the rows,
the labels) and a little that is the reader's or the moment's own: their
name and bell in the header, their CSRF token, their votes, their unread
counts, how long ago something happened. Templates write the second kind as
slots, `slot("ago", moment)`, so the rest can be rendered once and cached for
every reader alike (community/views.py caches whole pages that way). Every
HTML response is filled on its way out: each slot name's filler gets every
argument the page holds for it at once (one query for all the votes of a
page, say) and the slot becomes its answer.

A slot is "\\x00<mark>name:argument\\x00". Nothing stored holds NUL
(inputs.py refuses it), and the mark is derived from SECRET_KEY, so neither
text a member wrote nor an address a reader made up can open a slot.
"""
import hashlib
import hmac
import re
from collections import defaultdict
from contextlib import contextmanager
from functools import lru_cache

from flask import current_app, g
from markupsafe import Markup

_FILLERS = {}


def filler(name):
    """Register `fill(arguments) -> {argument: html}` as what slots called `name` become. The HTML it returns
    goes into the page as it is: escape what it quotes."""
    def register(function):
        _FILLERS[name] = function
        return function
    return register


def slot(name, argument=""):
    """The placeholder for slot `name` with `argument` (a template global)."""
    return Markup(f"\x00{_mark()}{name}:{argument}\x00")


def fill(body):
    """The UTF-8 page `body` with every slot replaced by its filler's answer (a slot nobody fills becomes
    nothing). Bytes, as the response holds them: a page is never decoded and encoded again for its slots."""
    mark = _mark().encode()
    if mark not in body:
        return body
    parts = _split_at_nul(body)  # text, slot, text, slot, ..., text: nothing else holds NUL
    found = parts[1::2]
    if len(parts) % 2 == 0 or not all(part.startswith(mark) for part in found):
        return _fill_by_pattern(body, mark)  # a stray NUL after all: the slower, careful way
    slots = [part[len(mark):].decode().partition(":")[::2] for part in found]
    answers = _encoded(_answers(slots))
    parts[1::2] = [answers.get(name, {}).get(argument, b"") for name, argument in slots]
    return b"".join(parts)


def _split_at_nul(body):
    # bytes.split() looks at every byte in turn; find() jumps from NUL to NUL (memchr), which on a 100 KB
    # page with a few dozen slots takes a third less time.
    parts, start, find = [], 0, body.find
    while (at := find(b"\x00", start)) != -1:
        parts.append(body[start:at])
        start = at + 1
    parts.append(body[start:])
    return parts


def _fill_by_pattern(body, mark):
    pattern = _pattern(mark)
    answers = _encoded(_answers((name.decode(), argument.decode()) for name, argument in pattern.findall(body)))
    return pattern.sub(lambda found: answers.get(found[1].decode(), {}).get(found[2].decode(), b""), body)


def _answers(slots):
    """{name: {argument: answer}}: each filler called once, with every argument the page holds for it."""
    wanted = defaultdict(set)
    for name, argument in slots:
        wanted[name].add(argument)
    return {name: _FILLERS[name](arguments) for name, arguments in wanted.items() if name in _FILLERS}


def _encoded(answers):
    return {name: {argument: str(answer).encode() for argument, answer in found.items()}
            for name, found in answers.items()}


@contextmanager
def shared_render():
    """While a page is rendered for every reader of its kind: the CSRF token is a slot too."""
    name = current_app.config["WTF_CSRF_FIELD_NAME"]
    own = g.pop(name, None)
    # flask_wtf.csrf.generate_csrf() answers with g's token once it has made one: this one, for now.
    setattr(g, name, slot("csrf"))
    try:
        yield
    finally:
        g.pop(name, None)
        if own is not None:
            setattr(g, name, own)


@filler("csrf")
def _csrf(arguments):
    from flask_wtf.csrf import generate_csrf

    return {"": generate_csrf()}


def _mark():
    return current_app.extensions["slots"]


@lru_cache(maxsize=4)
def _pattern(mark):
    return re.compile(b"\x00" + re.escape(mark) + b"([a-z-]+):([^\x00]*)\x00")


def _fill_response(response):
    if response.mimetype == "text/html" and not response.direct_passthrough and not response.is_streamed:
        body = response.get_data()
        filled = fill(body)
        if filled is not body:
            response.set_data(filled)
    return response


def init_app(app):
    key = str(app.config["SECRET_KEY"]).encode()
    app.extensions["slots"] = hmac.new(key, b"teahouse page slots", hashlib.sha256).hexdigest()[:16]
    app.jinja_env.globals["slot"] = slot
    app.after_request(_fill_response)
