"""User Markdown in, safe HTML out: the only place posts become markup.

Two layers, on purpose. markdown-it-py parses CommonMark (+ tables,
strikethrough, and linkify when linkify-it-py is installed) with raw HTML off,
so `<script>` in a post is text, never a tag; the token stream is then tidied
here (headings demoted, unsafe or disallowed links turned back into text,
@mentions linked). bleach then re-parses the HTML as a browser would and keeps
only the allowlist below, so a parser bug or a future option that lets markup
through still cannot produce an active element, event handler, style or
script URL.

Links: every `<a>` in the output, mentions included, carries
`rel="nofollow ugc noopener"` and no `target` (links open in the same tab).

Bump SANITIZER_VERSION whenever anything here changes what HTML a source
produces; the re-render CLI compares it with the version stored on each post.
"""

from __future__ import annotations

import re
import threading
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass

import bleach
from bleach.html5lib_shim import Filter
from markdown_it import MarkdownIt
from markdown_it.token import Token
from markupsafe import Markup, escape

SANITIZER_VERSION = 1

LINK_REL = "nofollow ugc noopener"

MentionResolver = Callable[[str], str | None]


@dataclass(frozen=True)
class Rendered:
    """Sanitized HTML of one source, and the @handles in it that resolved.

    `html` is safe to emit unescaped (wrap it in `Markup`); `mentions` holds
    each resolved handle once, as written, in order of first appearance.
    """

    html: str
    mentions: tuple[str, ...] = ()


# --- URLs -------------------------------------------------------------------

_LINK_SCHEMES = frozenset({"http", "https", "mailto"})
_IMAGE_SCHEMES = frozenset({"http", "https"})
_SCHEME = re.compile(r"([a-z][a-z0-9+.\-]*):", re.IGNORECASE)
# Browsers drop tab/CR/LF anywhere in a URL and C0 controls/space at its ends
# before reading the scheme: "java\tscript:" is javascript:.
_URL_NOISE = re.compile(r"[\t\n\r]")
_C0_AND_SPACE = "".join(chr(c) for c in range(0x21))


def _scheme(url: str) -> str | None:
    """The URL's scheme as a browser reads it, "" for a plain relative URL, None if ambiguous."""
    url = _URL_NOISE.sub("", url).strip(_C0_AND_SPACE)
    match = _SCHEME.match(url)
    if match:
        return match.group(1).lower()
    # A colon before the first / ? # is a scheme to some parser or other (after
    # percent-decoding, say); such a URL is never a relative link we need.
    first_segment = re.split(r"[/?#]", url, maxsplit=1)[0]
    return None if ":" in first_segment else ""


def _is_safe_href(url: str) -> bool:
    return _scheme(url) in _LINK_SCHEMES | {""}


def _is_safe_src(url: str) -> bool:
    # Relative image URLs are refused too: an <img> fetches without a click,
    # so src="/logout" would be a GET forged by every reader of the post.
    return _scheme(url) in _IMAGE_SCHEMES


# --- Mentions ---------------------------------------------------------------

# Not after a word character, nor after the other characters that end an
# e-mail local part or a URL path segment (a@b.com, x.y@b.com, /@bob).
_MENTION = re.compile(r"(?<![\w.+/-])@([\w.\-]{2,30})(?![\w.\-])")


def _resolve(handle: str, env: dict) -> str | None:
    cache = env["mention_cache"]
    if handle not in cache:
        resolver = env["mention_url"]
        url = resolver(handle) if resolver else None
        cache[handle] = url if url and _is_safe_href(url) else None
    return cache[handle]


def _mention_tokens(text: str, env: dict) -> list[Token]:
    """Split one text token's content into text and mention-link tokens."""
    out: list[Token] = []
    pos = 0
    for match in _MENTION.finditer(text):
        # A trailing dot or hyphen is sentence punctuation ("thanks @bob."),
        # so handles cannot end with one.
        handle = match.group(1).rstrip(".-")
        url = _resolve(handle, env) if len(handle) >= 2 else None
        if url is None:
            continue
        start, end = match.start(), match.start() + 1 + len(handle)
        if start > pos:
            out.append(_text_token(text[pos:start]))
        link = Token("link_open", "a", 1, markup="mention")
        link.attrs = {"href": url, "class": "mention"}
        out += [link, _text_token("@" + handle), Token("link_close", "a", -1, markup="mention")]
        if handle not in env["mentions"]:
            env["mentions"].append(handle)
        pos = end
    if not out:
        return [_text_token(text)]
    if pos < len(text):
        out.append(_text_token(text[pos:]))
    return out


def _text_token(content: str) -> Token:
    token = Token("text", "", 0)
    token.content = content
    return token


# --- Token rules (markdown-it core rules) ------------------------------------


def _tidy_blocks(state) -> None:
    """Demote headings two levels (the page owns h1/h2), align table cells without style, lowercase code languages."""
    for token in state.tokens:
        if token.type in ("heading_open", "heading_close"):
            token.tag = f"h{min(int(token.tag[1]) + 2, 6)}"
        elif token.type in ("th_open", "td_open") and token.attrs.get("style"):
            align = str(token.attrs.pop("style")).removeprefix("text-align:")
            token.attrs["align"] = align
        elif token.type == "fence":
            token.info = token.info.strip().lower()


def _tidy_links(state) -> None:
    """Turn links into their text when links are off, and unsafe images into their alt text."""
    allow_links = state.env["allow_links"]
    for block in state.tokens:
        if block.type != "inline" or not block.children:
            continue
        kept: list[Token] = []
        for token in block.children:
            if token.type in ("link_open", "link_close") and not allow_links:
                continue
            if token.type == "image" and not (allow_links and _is_safe_src(token.attrGet("src") or "")):
                alt = state.md.renderer.renderInlineAsText(token.children, state.md.options, state.env)
                kept.append(_text_token(alt))
                continue
            kept.append(token)
        block.children = kept


def _link_mentions(state) -> None:
    """Link resolvable @handles in text outside links; code spans are separate tokens."""
    for block in state.tokens:
        if block.type != "inline" or not block.children:
            continue
        children: list[Token] = []
        link_depth = 0
        for token in block.children:
            if token.type == "link_open":
                link_depth += 1
            elif token.type == "link_close":
                link_depth -= 1
            if token.type == "text" and link_depth == 0 and "@" in token.content:
                children += _mention_tokens(token.content, state.env)
            else:
                children.append(token)
        block.children = children


def _build_parser() -> MarkdownIt:
    try:
        import linkify_it  # noqa: F401  (optional; bare URLs stay text without it)

        linkify = True
    except ImportError:
        linkify = False
    md = MarkdownIt("commonmark", {"html": False, "linkify": linkify, "typographer": False})
    md.enable(["table", "strikethrough"])
    if linkify:
        md.enable("linkify")
        # Only explicit http(s):// URLs and e-mail addresses: fuzzy matching
        # turns "setup.py" and "README.md" into links to ccTLD domains.
        md.linkify.set({"fuzzy_link": False})
        md.linkify.add("//", None)
        md.linkify.add("ftp:", None)
    # markdown-it's own check lets data:image/* through; ours is an allowlist.
    md.validateLink = _is_safe_href
    # After linkify (so URLs and e-mails are links first), before text_join (so
    # a backslash-escaped \@ stays out of mentions).
    md.core.ruler.before("text_join", "teahouse_blocks", _tidy_blocks)
    md.core.ruler.before("text_join", "teahouse_links", _tidy_links)
    md.core.ruler.before("text_join", "teahouse_mentions", _link_mentions)
    return md


_md = _build_parser()


# --- Sanitizer --------------------------------------------------------------

_TAGS = frozenset(
    {"p", "br", "hr", "h1", "h2", "h3", "h4", "h5", "h6", "strong", "em", "del", "s", "code", "pre",
     "blockquote", "ul", "ol", "li", "a", "img", "table", "thead", "tbody", "tr", "th", "td", "span"}
)
_CODE_CLASS = re.compile(r"language-[a-z0-9+#-]{1,20}")
_SPAN_CLASS = re.compile(r"[a-z][a-z0-9-]{0,29}")
_ATTRIBUTE_CHECKS: dict[tuple[str, str], Callable[[str], bool]] = {
    ("a", "href"): _is_safe_href,
    ("a", "title"): lambda value: True,
    ("a", "class"): lambda value: value == "mention",
    ("img", "src"): _is_safe_src,
    ("img", "alt"): lambda value: True,
    ("img", "title"): lambda value: True,
    ("code", "class"): lambda value: bool(_CODE_CLASS.fullmatch(value)),
    # Markdown never emits a span today (raw HTML is off); kept for a future
    # server-side highlighter, one plain class token at most.
    ("span", "class"): lambda value: bool(_SPAN_CLASS.fullmatch(value)),
    ("th", "align"): lambda value: value in ("left", "center", "right"),
    ("td", "align"): lambda value: value in ("left", "center", "right"),
    ("ol", "start"): lambda value: value.isascii() and value.isdigit() and len(value) <= 9,
}


def _allow_attribute(tag: str, name: str, value: str) -> bool:
    check = _ATTRIBUTE_CHECKS.get((tag, name))
    return check is not None and check(value)


class _LinkRelFilter(Filter):
    """Sets rel on every <a>; runs after sanitizing, which has already dropped any rel or target."""

    def __iter__(self):
        for token in super().__iter__():
            if token["type"] == "StartTag" and token["name"] == "a":
                token["data"][(None, "rel")] = LINK_REL
            yield token


# bleach's Cleaner keeps parser state, so each thread (gthread workers) gets its own.
_local = threading.local()


def _cleaner() -> bleach.Cleaner:
    cleaner = getattr(_local, "cleaner", None)
    if cleaner is None:
        cleaner = _local.cleaner = bleach.Cleaner(
            tags=_TAGS,
            attributes=_allow_attribute,
            protocols=_LINK_SCHEMES,
            strip=False,  # anything unexpected shows up escaped instead of vanishing
            strip_comments=True,
            filters=[_LinkRelFilter],
        )
    return cleaner


# --- Text hygiene -----------------------------------------------------------

# Embeddings, overrides and isolates: an unbalanced U+202E flips the rest of
# the line, which is how "gpj.exe" gets shown as "exe.jpg".
_BIDI_CONTROLS = re.compile("[\u202a-\u202e\u2066-\u2069]")
_KEEP_WHITESPACE = frozenset("\t\n\r")
# Zero-width (non-)joiners are Cf but carry meaning: emoji sequences, Persian, Indic scripts.
_KEEP_FORMAT = frozenset("\u200c\u200d")


def _strip_body_controls(source: str) -> str:
    """Drop bidi controls and control characters; keep LRM/RLM and other format marks RTL text needs."""
    source = _BIDI_CONTROLS.sub("", source)
    return "".join(ch for ch in source if ch in _KEEP_WHITESPACE or unicodedata.category(ch) != "Cc")


def _strip_title_controls(text: str) -> str:
    return "".join(
        ch
        for ch in text
        if ch in _KEEP_WHITESPACE or ch in _KEEP_FORMAT or unicodedata.category(ch) not in ("Cc", "Cf")
    )


# --- Public API -------------------------------------------------------------


def render(source: str, *, allow_links: bool = True, mention_url: MentionResolver | None = None) -> Rendered:
    """Render user Markdown to HTML that is safe to emit unescaped.

    Guarantees: no raw HTML from the source survives; only the allowlisted
    tags and attributes appear; href is http, https, mailto or relative; img
    src is http or https; every <a> has rel="nofollow ugc noopener". With
    allow_links=False no link or image is produced, only their text (mentions
    still are). `mention_url(handle)` gives a member's profile URL or None;
    unresolved handles stay plain text. It is called at most once per handle.
    """
    env = {"allow_links": allow_links, "mention_url": mention_url, "mention_cache": {}, "mentions": []}
    html = _md.render(_strip_body_controls(source), env)
    return Rendered(html=_cleaner().clean(html), mentions=tuple(env["mentions"]))


def render_inline_title(text: str) -> Markup:
    """Escape a plain-text title (no Markdown) for HTML.

    Drops bidi override/isolate controls and every other control or format
    character except tab/CR/LF and the zero-width (non-)joiners. Returns
    Markup, so Jinja will not escape it twice.
    """
    return escape(_strip_title_controls(text))
