"""Translations: every UI string has a Chinese translation, and the right language is served.

The completeness tests extract the messages from the source tree at test time,
the way `make extract-messages` does (same babel.cfg, same keywords), so adding a
UI string without a Chinese translation fails here, before anyone sees English
in the middle of a Chinese page.
"""
import re
from pathlib import Path

import pytest
import sqlalchemy as sa
from babel.messages.catalog import Catalog
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

from portal.auth.models import User
from portal.extensions import babel, db
from tests.conftest import PASSWORD

ROOT = Path(__file__).resolve().parents[1]
TRANSLATIONS = ROOT / "portal" / "translations"
ZH_PO = TRANSLATIONS / "zh" / "LC_MESSAGES" / "messages.po"
# The keywords of `make extract-messages`: babel's defaults (_, gettext, ngettext, pgettext...) + these.
KEYWORDS = {**DEFAULT_KEYWORDS, "_l": None, "lazy_gettext": None, "lazy_pgettext": ((1, "c"), 2)}
EN_HEADERS = {"Accept-Language": "en-US,en;q=0.9"}
ZH_HEADERS = {"Accept-Language": "zh-CN,zh;q=0.9"}

# %(name)s / %(n)d / %(x).2f ...; "%%" is a literal percent sign, not a placeholder.
_PLACEHOLDER = re.compile(r"%\((\w+)\)[#0 +-]*\d*(?:\.\d+)?([diouxXeEfFgGcrsa])")
_SAMPLE = {"d": 1, "i": 1, "o": 1, "u": 1, "x": 1, "X": 1, "c": 1,
           "e": 1.0, "E": 1.0, "f": 1.0, "F": 1.0, "g": 1.0, "G": 1.0, "r": "x", "s": "x", "a": "x"}


def _compile_catalogs():
    """Write each messages.mo next to its .po when missing or older (what `make translations` does)."""
    for po_path in TRANSLATIONS.glob("*/LC_MESSAGES/messages.po"):
        mo_path = po_path.with_suffix(".mo")
        if mo_path.exists() and mo_path.stat().st_mtime >= po_path.stat().st_mtime:
            continue
        with po_path.open("rb") as po_file:
            catalog = read_po(po_file, locale=po_path.parents[1].name)
        with mo_path.open("wb") as mo_file:
            write_mo(mo_file, catalog)


@pytest.fixture(scope="module", autouse=True)
def compiled_catalogs():
    _compile_catalogs()
    # Flask-Babel caches loaded catalogs on the shared Babel object; an earlier test module
    # may have cached "no translations" before the .mo existed.
    domain = vars(babel).get("domain_instance")  # a cached_property: only there once built
    if domain is not None:
        domain.cache.clear()


def _method_map():
    from babel.messages import frontend

    parse = getattr(frontend, "parse_mapping_cfg", None) or frontend.parse_mapping
    with (ROOT / "babel.cfg").open(encoding="utf-8") as cfg:
        return parse(cfg)


@pytest.fixture(scope="module")
def source_messages():
    """The catalog `make extract-messages` would write, built now."""
    method_map, options_map = _method_map()
    catalog = Catalog()
    for filename, lineno, message, comments, context in extract_from_dir(
        str(ROOT), method_map, options_map, keywords=KEYWORDS, strip_comment_tags=True,
    ):
        catalog.add(message, None, [(filename, lineno)], auto_comments=comments, context=context)
    assert len(catalog) > 50, "extraction found suspiciously few messages; is babel.cfg right?"
    return catalog


@pytest.fixture(scope="module")
def zh_catalog():
    with ZH_PO.open("rb") as po_file:
        return read_po(po_file, locale="zh")


def _where(message):
    return ", ".join(f"{path}:{line}" for path, line in message.locations[:3])


def _label(message):
    msgid = message.id if isinstance(message.id, str) else " | ".join(message.id)
    return f"{msgid!r}" + (f" (context {message.context!r})" if message.context else "")


def _translations(message):
    return list(message.string) if isinstance(message.string, (tuple, list)) else [message.string]


def _placeholders(text):
    return {match.groups() for match in _PLACEHOLDER.finditer(text.replace("%%", ""))}


def test_zh_catalog_is_simplified_chinese_with_one_plural_form(zh_catalog):
    assert str(zh_catalog.locale) == "zh"
    assert zh_catalog.num_plurals == 1
    assert not zh_catalog.fuzzy, "the catalog header is marked fuzzy; pybabel compile would skip it"


def test_every_ui_string_has_a_chinese_translation(source_messages, zh_catalog):
    """Fails listing each source message that is missing, empty or fuzzy in the zh catalog."""
    problems = []
    for source in source_messages:
        if not source.id:
            continue
        entry = zh_catalog.get(source.id, context=source.context)
        if entry is None:
            problem = "missing"
        elif entry.fuzzy:
            problem = "fuzzy"
        elif source.pluralizable != entry.pluralizable:
            problem = "plural form differs from the source (re-run make extract-messages)"
        elif not all(_translations(entry)) or (
                entry.pluralizable and len(_translations(entry)) < zh_catalog.num_plurals):
            problem = "empty"
        else:
            continue
        problems.append(f"{problem}: {_label(source)} at {_where(source)}")
    assert not problems, (
        f"{len(problems)} UI string(s) lack a Chinese translation. Run `make extract-messages`, "
        f"translate them in {ZH_PO.relative_to(ROOT)}, and remove any fuzzy flag:\n  " + "\n  ".join(problems)
    )


def test_translations_keep_the_placeholders(source_messages, zh_catalog):
    """A translation names exactly the %(name)s placeholders of its msgid, and formats cleanly."""
    problems = []
    for source in source_messages:
        entry = zh_catalog.get(source.id, context=source.context) if source.id else None
        if entry is None:
            continue
        ids = [entry.id] if isinstance(entry.id, str) else list(entry.id)
        expected = set().union(*(_placeholders(text) for text in ids))
        for text in _translations(entry):
            if not text:
                continue
            found = _placeholders(text)
            if found != expected:
                want = sorted(f"%({name}){kind}" for name, kind in expected)
                got = sorted(f"%({name}){kind}" for name, kind in found)
                problems.append(f"{_label(entry)}: translation {text!r} has {got}, expected {want}")
            elif expected:
                try:
                    text % {name: _SAMPLE[kind] for name, kind in expected}
                except (TypeError, ValueError, KeyError) as exc:
                    problems.append(f"{_label(entry)}: translation {text!r} does not format: {exc}")
    assert not problems, "placeholder mismatches in the zh catalog:\n  " + "\n  ".join(problems)


def test_the_catalog_passes_the_checks_pybabel_compile_runs():
    """`make translations` refuses a catalog Babel's checkers reject (a plural's translation naming a
    placeholder its singular lacks, say): the same checks, here, so the suite fails first."""
    catalog = read_po(ZH_PO.open("rb"))
    problems = [f"{message.id!r}: {error}" for message, errors in catalog.check() for error in errors]
    assert problems == []


# --- the language a person gets ------------------------------------------------------------------

def _zh(msgid):
    """The Chinese for `msgid`, from the catalog the app serves."""
    with ZH_PO.open("rb") as po_file:
        entry = read_po(po_file, locale="zh").get(msgid)
    assert entry is not None and entry.string and entry.string != msgid, f"no Chinese for {msgid!r}"
    return entry.string


def _page(client, path="/", headers=None):
    response = client.get(path, headers=headers or {})
    assert response.status_code == 200
    return response.get_data(as_text=True)


def _is_chinese(html):
    return 'lang="zh-Hans"' in html and _zh("Search the community") in html


def _is_english(html):
    return 'lang="en"' in html and "Search the community" in html and _zh("Search the community") not in html


def test_browser_asking_for_chinese_gets_a_chinese_home_page(client):
    html = _page(client, headers=ZH_HEADERS)
    assert _is_chinese(html)
    assert f">{_zh('Sign in')}<" in html and f">{_zh('Join')}<" in html
    assert ">Sign in<" not in html


def test_no_accept_language_gets_english(client):
    html = _page(client)
    assert _is_english(html)
    assert ">Sign in<" in html and _zh("Sign in") not in html


def test_members_profile_language_beats_the_browser(client, auth, member):
    member.locale = "zh"
    db.session.commit()
    auth.login(member.email)
    html = _page(client, headers=EN_HEADERS)
    assert _is_chinese(html)
    assert _zh("Sign out") in html and "Sign out" not in html


def test_language_switch_makes_following_pages_chinese_for_a_visitor(client):
    assert _is_english(_page(client, headers=EN_HEADERS))
    response = client.post("/locale?next=/search", data={"locale": "zh"}, headers=EN_HEADERS)
    assert response.status_code == 302 and response.headers["Location"].endswith("/search")
    assert _is_chinese(_page(client, headers=EN_HEADERS))
    assert _is_chinese(_page(client, "/search", headers=EN_HEADERS))
    client.post("/locale", data={"locale": "en"}, headers=ZH_HEADERS)
    assert _is_english(_page(client, headers=ZH_HEADERS))


def test_language_switch_ignores_unoffered_languages(client):
    client.post("/locale", data={"locale": "fr"})
    assert _is_english(_page(client))


def test_a_visitors_language_choice_survives_signing_in(client, auth, member):
    """A visitor picks Chinese in the footer, then signs in to an account whose profile says English."""
    member.locale = "en"
    db.session.commit()
    client.get("/locale?locale=zh&next=/login", headers=EN_HEADERS)
    auth.login(member.email)
    assert _is_chinese(_page(client, headers=EN_HEADERS))
    # ... until the member saves another language on purpose, which this browser then speaks.
    client.post("/account/profile", data={"name": member.name, "bio": "", "locale": "en", "timezone": "UTC"})
    assert _is_english(_page(client, headers=ZH_HEADERS))


def test_language_switch_saves_a_members_choice_on_the_profile(app, client, auth, member):
    assert member.locale is None
    auth.login(member.email)
    client.post("/locale", data={"locale": "zh"}, headers=EN_HEADERS)
    db.session.expire_all()
    assert db.session.scalar(sa.select(User.locale).where(User.id == member.id)) == "zh"
    assert _is_chinese(_page(client, headers=EN_HEADERS))
    # The choice follows the member to another browser, which never used the switch.
    other_browser = app.test_client()
    other_browser.post("/login", data={"email": member.email, "password": PASSWORD}, headers=EN_HEADERS)
    assert _is_chinese(_page(other_browser, headers=EN_HEADERS))


def test_email_goes_out_in_the_recipients_language(client, member, outbox):
    member.locale = "zh"
    db.session.commit()
    client.post("/forgot-password", data={"email": member.email}, headers=EN_HEADERS)
    assert len(outbox) == 1
    mail = outbox[0]
    assert mail.subject == _zh("Reset your password")
    assert _zh("Hello %(name)s,") % {"name": member.name} in mail.body
    assert "Someone (hopefully you)" not in mail.body
