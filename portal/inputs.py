"""Input refused at the door, for every view alike: text no database can store, numbers no
column holds, JSON nested past reason.

PostgreSQL rejects NUL in text and the UTF-8 encoder rejects unpaired
surrogates (which JSON's "\\ud800" escapes produce), so such text would fail
deep inside a service, halfway through an action. It is refused before any
view runs: 400 in the path or query string, a 422 field error in a form or
a JSON body. Paging parameters must be whole numbers a query can use (422).
"""
import re

from flask import current_app, request
from flask.json.provider import DefaultJSONProvider
from flask_babel import lazy_gettext as _l
from werkzeug.exceptions import BadRequest

from .errors import Invalid
from .sqltypes import MAX_ID

MAX_PAGE = 1_000_000
MAX_PER_PAGE = 1_000
MAX_JSON_DEPTH = 32
PAGING_PARAMETERS = {"page": MAX_PAGE, "per_page": MAX_PER_PAGE}
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
UNSTORABLE_MESSAGE = _l("This text contains characters that can't be stored (a NUL byte or a broken character).")


def is_storable(text):
    return _UNSTORABLE.search(text) is None


def as_id(value):
    """A row id from query-string text; ValueError otherwise (usable as `request.args.get(..., type=as_id)`).

    ASCII digits only: "²".isdigit() is true, but int("²") fails.
    """
    if not (value.isascii() and value.isdigit()) or not 1 <= int(value) <= MAX_ID:
        raise ValueError(f"not an id: {value!r}")
    return int(value)


def parse_id(text):
    """The id `text` spells, or None when it spells none (a slug, say)."""
    try:
        return as_id(text)
    except ValueError:
        return None


def page_number():
    """The `page` query parameter (1 when absent); refuse_hostile_input() has checked its range."""
    return request.args.get("page", 1, type=int)


class StrictJSONProvider(DefaultJSONProvider):
    """JSON bodies: too deep is a 400, unstorable text a 422 naming the field."""

    def loads(self, s, **kwargs):
        try:
            data = super().loads(s, **kwargs)
        except RecursionError:
            raise ValueError("JSON nested too deeply") from None
        _check_json(data)
        return data


def _check_json(data):
    stack = [(data, "body", 0)]
    while stack:
        value, path, depth = stack.pop()
        if depth > MAX_JSON_DEPTH:
            raise BadRequest("JSON nested too deeply")
        if isinstance(value, str) and not is_storable(value):
            raise Invalid(message=UNSTORABLE_MESSAGE, fields={path.removeprefix("body."): UNSTORABLE_MESSAGE})
        if isinstance(value, dict):
            for key, item in value.items():
                if not is_storable(key):
                    raise Invalid(fields={"body": UNSTORABLE_MESSAGE})
                stack.append((item, f"{path}.{key}", depth + 1))
        elif isinstance(value, list):
            stack.extend((item, f"{path}.{i}", depth + 1) for i, item in enumerate(value))


def accepts_uploads(max_bytes):
    """View decorator: this view takes request bodies up to `max_bytes` (a CSV import), not MAX_CONTENT_LENGTH."""
    def mark(view):
        view.upload_limit = max_bytes
        return view
    return mark


def _raise_the_limit_for_uploads():
    # Before anything reads the body (this hook, then CSRF), or the app-wide limit answers 413.
    view = current_app.view_functions.get(request.endpoint)
    limit = getattr(view, "upload_limit", None)
    if limit:
        request.max_content_length = limit


def refuse_hostile_input():
    """before_request: the path, query string and form hold only storable text and usable page numbers."""
    _raise_the_limit_for_uploads()
    for value in (request.view_args or {}).values():
        if isinstance(value, str) and not is_storable(value):
            raise BadRequest("unstorable text in the path")
    for key, value in request.args.items(multi=True):
        if not (is_storable(key) and is_storable(value)):
            raise BadRequest("unstorable text in the query string")
        if key in PAGING_PARAMETERS and not _is_count(value, PAGING_PARAMETERS[key]):
            raise Invalid(fields={key: _l("Give a whole number from 1 to %(n)d.", n=PAGING_PARAMETERS[key])})
    if request.method in ("POST", "PUT", "PATCH") and request.mimetype != "application/json":
        bad = [key for key, value in request.form.items(multi=True) if not (is_storable(key) and is_storable(value))]
        if bad:
            raise Invalid(message=UNSTORABLE_MESSAGE,
                          fields={key if is_storable(key) else "form": UNSTORABLE_MESSAGE for key in bad})


def whole_number_in(raw, lowest, highest):
    """`raw` (a form string or a number) as an int from `lowest` to `highest`, or None."""
    try:
        number = int(str(raw).strip())
    except ValueError:
        return None
    return number if lowest <= number <= highest else None


def _is_count(value, highest):
    return value.isascii() and value.isdigit() and 1 <= int(value) <= highest


def init_app(app):
    app.json = StrictJSONProvider(app)
    app.before_request(refuse_hostile_input)
