"""Links that leave the page: absolute links from PUBLIC_URL, and `next=` targets that stay on the site."""
from urllib.parse import urlsplit

from flask import current_app


def public_url(endpoint, **values):
    """An absolute link for mail, the API and anything read away from this page.

    It is always built from PUBLIC_URL, never from the request's Host header,
    which any client can set: a reset link mailed to `evil.example` would
    hand the account to whoever owns that host. Works in and out of requests.
    """
    base = urlsplit(current_app.config["PUBLIC_URL"])
    adapter = current_app.url_map.bind(base.netloc, script_name=base.path or "/", url_scheme=base.scheme)
    anchor = values.pop("_anchor", None)
    url = adapter.build(endpoint, values, force_external=True)
    return f"{url}#{anchor}" if anchor else url


def is_local_path(target):
    """Whether `target` is a path on this site, safe to redirect to.

    Browsers drop tabs and newlines and read "\\" as "/", so "/\\evil.example"
    and "/\\t/evil.example" would leave the site; a CR or LF would also split
    the Location header.
    """
    return (target.startswith("/") and not target.startswith("//") and "\\" not in target
            and target.isprintable() and " " not in target and not urlsplit(target).netloc)

