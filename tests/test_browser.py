"""Journeys through a real Chromium against a real server on 127.0.0.1.

The app runs on the test database of conftest.py, with CSRF switched on, in
a werkzeug server on a background thread. Each step saves a screenshot into
test-artifacts/ so people can look at what the browser saw.

Without /usr/bin/chromium the tests skip, except under CI=true, where they fail.
"""
import os
import re
import threading
from pathlib import Path

import pytest

pytestmark = pytest.mark.browser

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
ON_CI = os.environ.get("CI", "").lower() == "true"
ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts"
TIMEOUT_MS = 15_000
STRONG_PASSWORD = "quiet maple harbour lantern 42"


def _unavailable(reason):
    if ON_CI:
        pytest.fail(f"browser tests cannot run on CI: {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="module")
def browser():
    if not os.path.exists(CHROMIUM):
        _unavailable(f"{CHROMIUM} is not installed")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("playwright is not installed")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield browser
        browser.close()


@pytest.fixture
def live_server(make_app):
    """Base URL of the app served on a free port; stopped after the test."""
    from werkzeug.serving import make_server

    app = make_app(WTF_CSRF_ENABLED=True, SERVER_NAME=None)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="live-server", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()


@pytest.fixture
def open_page(browser, request):
    """Factory: a fresh browser context and page of the given viewport; closed after the test."""
    contexts = []

    def build(width=1280, height=800):
        context = browser.new_context(viewport={"width": width, "height": height}, locale="en-US")
        context.set_default_timeout(TIMEOUT_MS)
        contexts.append(context)
        page = context.new_page()
        errors = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.js_errors = errors
        return page

    yield build
    for context in contexts:
        context.close()


def snap(page, name):
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def test_visitor_registers_edits_profile_and_signs_out(live_server, open_page):
    from playwright.sync_api import expect

    page = open_page()
    page.goto(live_server + "/")
    snap(page, "journey-a-01-home-visitor")

    page.locator(".topnav a[href$='/register']").click()
    expect(page).to_have_url(re.compile(r"/register$"))
    page.fill("main input[name=name]", "Mei Tanaka")
    page.fill("main input[name=email]", "mei.tanaka@example.com")
    page.fill("main input[name=password]", STRONG_PASSWORD)
    snap(page, "journey-a-02-register-filled")
    page.locator("main form button[type=submit]").click()

    expect(page).to_have_url(live_server + "/")
    expect(page.locator(".alert--success")).to_contain_text("Mei Tanaka")
    expect(page.locator(".usermenu__name")).to_have_text("Mei Tanaka")
    snap(page, "journey-a-03-home-signed-in")

    page.locator(".usermenu summary").click()
    profile_link = page.locator(".usermenu__panel a[href$='/account/profile']")
    expect(profile_link).to_be_visible()
    snap(page, "journey-a-04-user-menu-open")
    profile_link.click()

    expect(page).to_have_url(re.compile(r"/account/profile$"))
    expect(page.locator("main input[name=name]")).to_have_value("Mei Tanaka")
    page.fill("main input[name=name]", "Mei T.")
    page.select_option("main select[name=locale]", label="简体中文")
    snap(page, "journey-a-05-profile-edited")
    page.locator("main form:has(input[name=name]) button[type=submit]").click()

    expect(page).to_have_url(re.compile(r"/account/profile$"))
    expect(page.locator(".alert--success")).to_be_visible()
    expect(page.locator("html")).to_have_attribute("lang", "zh-Hans")
    expect(page.locator("main input[name=name]")).to_have_value("Mei T.")
    expect(page.locator("main select[name=locale]")).to_have_value("zh")
    expect(page.locator(".usermenu__name")).to_have_text("Mei T.")
    snap(page, "journey-a-06-profile-saved")

    page.locator(".usermenu summary").click()
    sign_out = page.locator(".usermenu__panel form button[type=submit]")
    expect(sign_out).to_be_visible()
    sign_out.click()

    expect(page).to_have_url(live_server + "/")
    expect(page.locator(".topnav a[href$='/login']")).to_be_visible()
    expect(page.locator(".usermenu")).to_have_count(0)
    snap(page, "journey-a-07-signed-out")
    assert page.js_errors == []


def test_home_fits_a_phone(live_server, open_page):
    from playwright.sync_api import expect

    page = open_page(390, 844)
    page.goto(live_server + "/")
    expect(page.locator("#site-search")).to_be_visible()
    snap(page, "journey-b-01-home-phone")

    scroll_width = page.evaluate("document.scrollingElement.scrollWidth")
    assert scroll_width <= 390, f"the home page scrolls sideways on a phone ({scroll_width}px wide)"
    box = page.locator("#site-search").bounding_box()
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 390
    assert page.js_errors == []


def test_first_tab_focuses_the_skip_link(live_server, open_page):
    from playwright.sync_api import expect

    page = open_page()
    page.goto(live_server + "/")
    expect(page.locator("#main")).to_be_visible()
    page.keyboard.press("Tab")

    skip_link = page.locator("a.skip-link")
    expect(skip_link).to_be_focused()
    expect(skip_link).to_have_attribute("href", "#main")
    expect(skip_link).to_be_in_viewport()
    snap(page, "journey-c-01-skip-link-focused")

    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"#main$"))
    snap(page, "journey-c-02-skipped-to-content")


def _sign_in(page, base, email, password):
    page.goto(base + "/login")
    page.fill("main input[name=email]", email)
    page.fill("main input[name=password]", password)
    page.locator("main form button[type=submit]").click()


def test_question_answered_voted_and_accepted(live_server, open_page, make_user):
    """In the browser: one member asks, another answers, a third votes, the asker accepts."""
    from playwright.sync_api import expect

    from portal.auth.models import User
    from portal.extensions import db
    from tests.community_factories import LONG_AGO, make_category
    from tests.conftest import PASSWORD

    make_category("Questions")
    asker, helper, voter = (make_user(name=name, created_at=LONG_AGO)
                            for name in ("Wang Fang", "Emma Schneider", "Li Wei"))
    emails = [u.email for u in (asker, helper, voter)]
    assert db.session.query(User).count() == 3

    page = open_page()
    _sign_in(page, live_server, emails[0], PASSWORD)
    page.goto(live_server + "/new")
    page.locator("input[name=kind][value=question]").check()
    page.fill("main input[name=title]", "How do I schedule a weekly PDF export?")
    page.fill("main textarea[name=body]", "Our managers want the **sales dashboard** every Monday at 9:00.")
    snap(page, "journey-d-01-ask")
    page.locator("main form button[type=submit]").click()
    expect(page).to_have_url(re.compile(r"/t/\d+"))
    topic_url = page.url.split("#")[0]
    expect(page.locator("main h1")).to_contain_text("weekly PDF export")

    answerer = open_page()
    _sign_in(answerer, live_server, emails[1], PASSWORD)
    answerer.goto(topic_url)
    answerer.fill("textarea[name=body]", "Open the dashboard, then **Share → Schedule export**, and pick PDF.")
    answerer.locator("form button[type=submit]", has_text="Post answer").click()
    expect(answerer.locator(".post").nth(1)).to_contain_text("Schedule export")
    snap(answerer, "journey-d-02-answered")

    fan = open_page()
    _sign_in(fan, live_server, emails[2], PASSWORD)
    fan.goto(topic_url)
    fan.locator(".post").nth(1).locator("button.vote--up").click()
    expect(fan.locator(".post").nth(1).locator("button.vote--up")).to_have_attribute("aria-pressed", "true")

    page.goto(topic_url)
    page.locator("button", has_text="Accept this answer").click()
    expect(page.locator(".post").nth(1)).to_contain_text("Emma Schneider")
    expect(page.locator("button", has_text="Unaccept")).to_be_visible()
    snap(page, "journey-d-03-accepted")
    page.goto(live_server + "/latest?sort=solved")
    expect(page.locator("main")).to_contain_text("weekly PDF export")
    for p in (page, answerer, fan):
        assert p.js_errors == []


def test_a_friend_joins_through_a_share_link(live_server, open_page, make_user):
    """In the browser: a friend opens a member's /r/ link, looks around, joins; the member sees them joined."""
    from playwright.sync_api import expect

    from portal.auth.models import User
    from portal.extensions import db
    from portal.referrals.models import Referral, ReferralStatus
    from tests.community_factories import LONG_AGO
    from tests.conftest import PASSWORD

    referrer = make_user(name="Wang Fang", created_at=LONG_AGO)
    friend_page = open_page()
    friend_page.goto(f"{live_server}/r/{referrer.referral_code}")
    expect(friend_page.locator("main")).to_contain_text("Wang Fang")
    snap(friend_page, "journey-r-01-landing")
    friend_page.locator("main a[href$='/']", has_text="Look around first").click()
    friend_page.goto(live_server + "/register")  # later, from the header: the cookie remembers who invited
    friend_page.fill("main input[name=name]", "Zhang Wei")
    friend_page.fill("main input[name=email]", "zhang.wei@example.com")
    friend_page.fill("main input[name=password]", STRONG_PASSWORD)
    friend_page.locator("main form button[type=submit]").click()
    expect(friend_page.locator(".usermenu__name")).to_have_text("Zhang Wei")

    db.session.expire_all()
    friend = db.session.query(User).filter_by(email="zhang.wei@example.com").one()
    referral = db.session.query(Referral).filter_by(invitee_id=friend.id).one()
    assert referral.referrer_id == referrer.id and referral.status == ReferralStatus.SIGNED_UP

    page = open_page()
    _sign_in(page, live_server, referrer.email, PASSWORD)
    page.goto(live_server + "/referrals")
    expect(page.locator(".funnel")).to_contain_text("1 joined")
    expect(page.locator("main table")).to_contain_text("Zhang Wei")
    snap(page, "journey-r-02-referrer-sees-friend")
    assert friend_page.js_errors == [] and page.js_errors == []


def test_reading_a_long_discussion_is_reported_by_the_page_as_the_reader_scrolls(live_server, open_page, make_user):
    """The topic page writes nothing when it is served; its script reports how far the reader got."""
    import sqlalchemy as sa

    from portal.community import posts
    from portal.community.models import TopicRead
    from portal.extensions import db
    from tests.community_factories import LONG_AGO, ask, make_category
    from tests.conftest import PASSWORD

    author, reader = (make_user(name=name, created_at=LONG_AGO) for name in ("Wang Fang", "Li Wei"))
    topic = ask(author, make_category("Talk"), title="A long chat about dashboards", kind="discussion")
    for n in range(2, 9):
        posts.reply(author, topic.id, f"Reply number {n}.\n\n" + "More words on dashboards. " * 40)

    def mark():
        db.session.expire_all()
        return db.session.scalar(sa.select(TopicRead.last_read_number).where(
            TopicRead.user_id == reader.id, TopicRead.topic_id == topic.id))

    page = open_page(width=390, height=700)
    _sign_in(page, live_server, reader.email, PASSWORD)
    page.goto(f"{live_server}/t/{topic.id}")
    page.wait_for_timeout(2500)
    first = mark()
    assert first is not None and 1 <= first < 8  # what was in view, not the whole page
    page.locator("#post-8").scroll_into_view_if_needed()
    page.wait_for_timeout(2500)
    assert mark() == 8
    assert page.js_errors == []
