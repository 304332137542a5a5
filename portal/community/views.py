"""The community in the browser: lists, topics, posting, voting, following, moderating.

Each view parses its input, asks one service (or pages.py for what a page
shows) and renders or redirects. Refusals from a form page become form
errors with the service's status; refusals from a button are flashed on the
page the button was on. Only 401 and 403 answer as such, since the page never
offers what they refuse.
"""
from datetime import datetime, timedelta
from functools import lru_cache

from babel import dates as babel_dates
from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from flask_babel import get_locale, get_timezone, to_user_timezone
from flask_babel import gettext as _
from flask_login import current_user
from markupsafe import escape
from wtforms import SelectChoice

from .. import slots
from ..errors import DomainError, Invalid, NotFound
from ..extensions import cache
from ..forms import attempt, show_errors
from ..inputs import as_id, page_number
from ..permissions import Permission, can, require, require_login
from ..sqltypes import utcnow
from ..urls import is_local_path
from . import (
    access,
    answers,
    cards,
    flags,
    follows,
    ideas,
    lists,
    official,
    pages,
    posts,
    reading,
    restructure,
    topics,
    votes,
)
from .forms import (
    AcceptForm,
    ActionForm,
    DuplicateForm,
    EditPostForm,
    FlagForm,
    FollowForm,
    IdeaStatusForm,
    MoveForm,
    ReplyForm,
    TopicDetailsForm,
    TopicForm,
    VoteForm,
    split_tags,
)
from .models import IdeaStatus, TopicKind
from .services import search_directory

bp = Blueprint("community", __name__)

LIST_SORTS = ("latest", "top", "unanswered", "solved", "unsolved")
PERIODS = ("day", "week", "month", "year", "all")
IDEA_SORTS = ("votes", "latest")
HOME_TOPICS = 15


# -- template helpers -----------------------------------------------------------------------

@bp.app_template_filter("ago")
def ago(moment):
    """'5 minutes ago' for the last week, a date before that."""
    return _ago(moment, utcnow(), str(get_locale()))


@bp.app_template_test("settled")
def settled(moment):
    """Whether `moment` is past the week "ago" counts in: it is said as a date, the same from now on."""
    return utcnow() - moment >= _RELATIVE_FOR


@slots.filler("ago")
def _fill_ago(moments):
    now, locale, zone = utcnow().replace(second=0, microsecond=0), str(get_locale()), str(get_timezone())
    return {moment: _ago_by_the_minute(moment, now, locale, zone) for moment in moments}


# A page shows dozens of moments, and its readers of one minute the same ones: each answer kept for its minute.
@lru_cache(maxsize=16384)
def _ago_by_the_minute(moment, minute, locale, zone):
    return str(escape(_ago(datetime.fromisoformat(moment), minute, locale)))


_RELATIVE_FOR = timedelta(days=7)  # how long "5 minutes ago", "3 days ago" is said; then the date


def _ago(moment, now, locale):
    delta = now - moment
    if delta < timedelta(minutes=1):
        return _("just now")
    if delta < _RELATIVE_FOR:
        return _minutes_ago(int(delta.total_seconds() // 60), locale)
    return _day(to_user_timezone(moment).date(), locale)


# A list shows dozens of these a page and Babel takes ~40 µs each: the same few thousand answers, remembered.
@lru_cache(maxsize=8192)
def _minutes_ago(minutes, locale):
    return babel_dates.format_timedelta(timedelta(minutes=-minutes), granularity="minute", add_direction=True,
                                        locale=locale)


@lru_cache(maxsize=8192)
def _day(day, locale):
    return babel_dates.format_date(day, "medium", locale=locale)


# -- small helpers -------------------------------------------------------------------------

def _page():
    return page_number()


def _back(form, default):
    """The form's `next` when it is a path on this site, else `default`."""
    target = form.next.data or ""
    return target if is_local_path(target) else default


def _back_to_post(form, post_id):
    """The form's `next`, else the post on its topic's page (not through post_link: one redirect, not two)."""
    back = _back(form, None)
    if back:
        return back
    try:
        return _post_location(post_id)
    except NotFound:  # gone, or never there: post_link says so
        return url_for("community.post_link", post_id=post_id)


def _post_location(post_id):
    """Where post `post_id` is shown to the reader: its topic's page, at the post."""
    post = posts.get_post(current_user, post_id)
    return _post_url(post.topic_id, *pages.locate_post(current_user, post.topic_id, post.number))


def _post_url(topic_id, page, number):
    return url_for("community.topic", topic_id=topic_id, page=page if page > 1 else None, _anchor=f"post-{number}")


def _topic_url(topic_id):
    return url_for("community.topic", topic_id=topic_id)


def _valid(form):
    if form.validate_on_submit():
        return True
    errors = [str(e) for name, errs in form.errors.items() if name != "next" for e in errs]
    flash(errors[0] if errors else _("Please try that again."), "error")
    return False


# -- lists ---------------------------------------------------------------------------------

def _listing(sorts=LIST_SORTS, default_sort="latest", kind=None, style="topic", **filters):
    """One page of topics in the sort, period and kind the query string asks for, and its rows."""
    sort = request.args.get("sort", default_sort)
    period = request.args.get("period", "all")
    kind = kind or request.args.get("kind") or None
    page = lists.topic_page(current_user, sort=sort, period=period, kind=kind, page=_page(), **filters)
    rows = lists.topic_rows(current_user, page, style=style, show_category=filters.get("category") is None)
    return {"topics": page, "rows": rows, "sort": sort, "period": period, "kind": kind, "sorts": sorts,
            "periods": PERIODS, "kinds": list(TopicKind)}


def _home(tab, topic_ids=None):
    members, member_count = pages.top_members()
    page = lists.topic_page(current_user, topic_ids=topic_ids, page=_page(),
                            per_page=None if tab == "following" else HOME_TOPICS)
    return render_template("community/home.html", tab=tab, summaries=lists.category_summaries(current_user),
                           topics=page, rows=lists.topic_rows(current_user, page),
                           popular_tags=lists.tag_counts(current_user, limit=15),
                           top_members=members, member_count=member_count)


@bp.get("/")
def home():
    return _list_page(lambda: _home("latest"))


@bp.get("/feed")
@require_login
def feed():
    return _home("following", topic_ids=follows.feed_topic_ids(current_user))


@bp.get("/latest")
def latest():
    return _list_page(lambda: render_template("community/list.html", heading=_("All topics"),
                                              endpoint="community.latest", args={}, **_listing()))


@bp.get("/c/<slug>")
def category(slug):
    # A member's page says whether they follow the category; a visitor's may come from the cache unread.
    head = topics.category_and_follow(current_user, slug) if current_user.is_authenticated else None

    def render():
        category, following = head or topics.category_and_follow(current_user, slug)
        return render_template("community/list.html", category=category, heading=category.name,
                               endpoint="community.category", args={"slug": slug}, following=following,
                               **_listing(category=category))
    return _list_page(render, reader_of_list=f"f{int(head[1])}" if head else "")


@bp.get("/tags/<name>")
def tag(name):
    return _list_page(lambda: render_template("community/list.html", tag=name,
                                              heading=_("Tagged “%(tag)s”", tag=name), endpoint="community.tag",
                                              args={"name": name}, **_listing(tag=name)))


@bp.get("/ideas")
def ideas_list():
    status = request.args.get("status") or None
    return _list_page(lambda: render_template(
        "community/ideas.html", status=status, statuses=list(IdeaStatus),
        **_listing(sorts=IDEA_SORTS, default_sort="votes", kind=TopicKind.IDEA.value, style="idea", status=status)))


@bp.get("/search")
def search():
    q = request.args.get("q", "").strip()[:200]
    categories, members = (search_directory(current_user, q) if q else ([], []))
    return render_template("community/search.html", q=q, categories=categories, members=members)


# -- the topic page ----------------------------------------------------------------------------

def _topic_response(topic_id, reply_form, status=200, quote_id=None):
    view = pages.topic_page(current_user, topic_id, page=_page())
    if quote_id and view.reply_state == pages.REPLY_OPEN and not reply_form.body.data:
        quoted = pages.quote(current_user, view.topic, quote_id)
        if quoted:
            reply_form.body.data, reply_form.reply_to_id.data = quoted
    moderating_an_idea = view.moderator and view.topic.kind == TopicKind.IDEA
    idea_form = IdeaStatusForm(formdata=None, status=view.topic.idea_status) if moderating_an_idea else None
    shown = cards.post_cards(view, may_flag_leads=can(current_user, Permission.FLAG_LEADS))
    first_card = shown[0] if view.entries and view.entries[0].post.number == 1 else None
    html = render_template("community/topic.html", view=view, topic=view.topic, reply_form=reply_form,
                           idea_form=idea_form, first_card=first_card, reply_cards=shown[1:] if first_card else shown)
    return html, status


@bp.post("/t/<int:topic_id>/read")
@require_login
def read(topic_id):
    """The topic page's script reports how far the reader got (a page view itself writes nothing)."""
    up_to = request.form.get("up_to", type=as_id)
    if up_to is None:
        raise Invalid("invalid_up_to", fields={"up_to": _("Give the post number read up to.")})
    reading.record_reading(current_user, topic_id, up_to)
    return "", 204


@bp.get("/t/<int:topic_id>")
def topic(topic_id):
    reader = _shared_reader()
    if reader is not None and _cacheable_address(TOPIC_ARGS):
        head = topics.topic_head(current_user, topic_id)
        if head is not None:  # (else: deleted, merged, not there or not readable; the way below says which)
            return _cached_topic_page(head, reader)
    try:  # kept in this variable, the topic stays in the session for the page below: no second query
        shown = topics.get_topic(current_user, topic_id)
    except NotFound:
        shown = None
    if shown is None or shown.deleted_at:
        merged_into = restructure.merged_destination(current_user, topic_id)
        if merged_into is not None:  # its posts live there now
            return redirect(url_for("community.topic", topic_id=merged_into), 301)
    if request.args.get("unread"):
        return redirect(_post_url(topic_id, *pages.first_unread(current_user, topic_id)))
    number = request.args.get("post", type=as_id)
    if number:
        return redirect(_post_url(topic_id, *pages.locate_post(current_user, topic_id, number)))
    quote_id = request.args.get("quote", type=as_id)
    return _topic_response(topic_id, ReplyForm(formdata=None), quote_id=quote_id)


def _shared_reader():
    """Whom this reader's pages are alike for (access.reader_kind), or None when the page is theirs alone: a
    flash waits, or they are staff."""
    return None if "_flashes" in session else access.reader_kind(current_user._get_current_object())


def _cached_topic_page(head, reader):
    # The topic's version changes with every action on it, so a hit is never stale for
    # what the topic shows; authors' names and levels may lag by CACHE_DEFAULT_TIMEOUT.
    page = _page()
    reader = f"{reader}:{pages.reader_of_topic(current_user._get_current_object(), head, page)}"
    return _cached_page(f"topic-page:{head.id}:v{head.version}:p{page}", reader,
                        lambda: _topic_response(head.id, ReplyForm(formdata=None))[0])


def _cached_page(key, reader, render):
    """The page `render()` makes, from the cache under `key` (which names what the page shows and its
    version), the kind of `reader` and their language and time zone. What is the reader's own in it is
    a slot (portal/slots.py), filled in as it leaves. Kept as the UTF-8 the response sends: a hit is never
    encoded again."""
    key = f"{key}:{reader}:{get_locale()}:{get_timezone()}"
    body = cache.get(key)
    if body is None:
        with slots.shared_render():
            body = render().encode()
        cache.set(key, body)
    return body


# What a page's address may carry and still be served from the cache, besides its page number: anything
# else is rendered (and not stored), so made-up addresses can't fill the cache or reach other readers' pages.
# A topic's other arguments (unread, post, quote) send the reader elsewhere or fill in the reply box.
LIST_ARGS = {"sort": set(topics.SORTS), "period": set(PERIODS), "kind": {k.value for k in TopicKind},
             "status": {s.value for s in IdeaStatus}}
TOPIC_ARGS = {}


def _cacheable_address(known_args):
    """Whether every argument of the address is a page number or one of `known_args` with a value it knows."""
    for name, value in request.args.items():
        known = value.isdigit() and len(value) <= 4 if name == "page" else value in known_args.get(name, ())
        if not known:
            return False
    return True


def _list_page(render, reader_of_list=""):
    """A list page from the cache, under the list version (lists.py) and the kind of reader;
    `reader_of_list` adds what else of the reader the page shows."""
    reader = _shared_reader()
    if reader is None or lists.reader_key(current_user) is None or not _cacheable_address(LIST_ARGS):
        return render()
    query = "&".join(f"{name}={request.args[name]}" for name in sorted(request.args))
    return _cached_page(f"list-page:{request.path}?{query}:v{lists.list_version()}", f"{reader}:{reader_of_list}",
                        render)


@bp.post("/t/<int:topic_id>/reply")
@require(Permission.POST)
def reply(topic_id):
    form = ReplyForm()
    if form.validate_on_submit():
        try:
            post = posts.reply(current_user, topic_id, form.body.data, reply_to_id=form.reply_to_id.data)
        except DomainError as error:
            show_errors(form, error)
            return _topic_response(topic_id, form, error.status)
        return redirect(_post_url(topic_id, *pages.locate_post(current_user, topic_id, post.number)))
    return _topic_response(topic_id, form, 422)


@bp.get("/p/<int:post_id>")
def post_link(post_id):
    return redirect(_post_location(post_id))


# -- starting and editing --------------------------------------------------------------------

@bp.route("/new", methods=["GET", "POST"])
@require(Permission.POST)
def new_topic():
    form = TopicForm()
    form.category_id.choices = [SelectChoice(c.id, c.name) for c in pages.writable_categories(current_user)]
    if request.method == "GET":
        form.category_id.data = request.args.get("category", type=as_id)
        if request.args.get("kind") in {kind.value for kind in TopicKind}:
            form.kind.data = request.args["kind"]
    status = 422 if form.is_submitted() else 200
    if form.validate_on_submit():
        try:
            topic = topics.create_topic(current_user, category_id=form.category_id.data, kind=form.kind.data,
                                        title=form.title.data, body=form.body.data, tags=form.tag_names())
        except DomainError as error:
            show_errors(form, error)
            status = error.status
        else:
            return redirect(_topic_url(topic.id))
    return render_template("community/new_topic.html", form=form,
                           popular_tags=topics.tag_counts(current_user, limit=12)), status


@bp.route("/p/<int:post_id>/edit", methods=["GET", "POST"])
@require(Permission.POST)
def edit_post(post_id):
    post = posts.editable_post(current_user, post_id)
    form = EditPostForm(title=post.topic.title, body=post.source)
    if post.number != 1:
        del form.title
    status = 422 if form.is_submitted() else 200
    if form.validate_on_submit():
        try:
            posts.edit_post(current_user, post_id, form.body.data, title=form.title.data if post.number == 1 else None)
        except DomainError as error:
            show_errors(form, error)
            status = error.status
        else:
            flash(_("Your changes are saved."), "success")
            return redirect(url_for("community.post_link", post_id=post_id))
    return render_template("community/edit_post.html", form=form, post=post), status


@bp.get("/p/<int:post_id>/revisions")
def revisions(post_id):
    post, earlier = posts.revisions(current_user, post_id)
    return render_template("community/revisions.html", post=post, revisions=earlier)


# -- buttons on posts --------------------------------------------------------------------------

@bp.post("/p/<int:post_id>/delete")
@require(Permission.POST)
def delete_post(post_id):
    form = ActionForm()
    post = attempt(posts.delete_post, current_user, post_id) if _valid(form) else None
    if post is not None and post.number == 1:
        flash(_("The topic is deleted."), "success")
        return redirect(url_for("community.category", slug=post.topic.category.slug))
    if post is not None:
        flash(_("The post is deleted."), "success")
    return redirect(_back(form, url_for("community.home")))


@bp.post("/p/<int:post_id>/vote")
@require(Permission.VOTE)
def vote(post_id):
    form = VoteForm()
    if _valid(form):
        attempt(votes.cast, current_user, post_id, form.value.data)
    return redirect(_back_to_post(form, post_id))


@bp.post("/p/<int:post_id>/unvote")
@require(Permission.VOTE)
def unvote(post_id):
    form = ActionForm()
    if _valid(form):
        attempt(votes.retract, current_user, post_id)
    return redirect(_back_to_post(form, post_id))


@bp.post("/p/<int:post_id>/flag")
@require(Permission.FLAG)
def flag(post_id):
    form = FlagForm()
    if _valid(form):
        attempt(flags.flag_post, current_user, post_id, form.reason.data, form.text.data,
                 done=_("Thank you. A moderator will take a look."))
    return redirect(_back(form, url_for("community.post_link", post_id=post_id)))


@bp.post("/t/<int:topic_id>/accept")
@require_login
def accept(topic_id):
    form = AcceptForm()
    if _valid(form):
        attempt(answers.accept, current_user, topic_id, form.post_id.data, done=_("The question is marked solved."))
    return redirect(_back(form, _topic_url(topic_id)))


@bp.post("/t/<int:topic_id>/unaccept")
@require_login
def unaccept(topic_id):
    form = ActionForm()
    if _valid(form):
        attempt(answers.unaccept, current_user, topic_id, done=_("The question is open again."))
    return redirect(_back(form, _topic_url(topic_id)))


# -- staff -------------------------------------------------------------------------------------

@bp.post("/p/<int:post_id>/official")
@require(Permission.MODERATE)
def mark_official(post_id):
    form = ActionForm()
    if _valid(form):
        attempt(official.mark_official, current_user, post_id, done=_("The answer is marked official."))
    return redirect(_back(form, url_for("community.post_link", post_id=post_id)))


@bp.post("/p/<int:post_id>/unofficial")
@require(Permission.MODERATE)
def unmark_official(post_id):
    form = ActionForm()
    if _valid(form):
        attempt(official.unmark_official, current_user, post_id, done=_("The answer is no longer marked official."))
    return redirect(_back(form, url_for("community.post_link", post_id=post_id)))


@bp.post("/t/<int:topic_id>/idea-status")
@require(Permission.MODERATE)
def idea_status(topic_id):
    form = IdeaStatusForm()
    if _valid(form):
        attempt(ideas.set_idea_status, current_user, topic_id, form.status.data, form.reply.data,
                 done=_("The idea's status is updated."))
    return redirect(_back(form, _topic_url(topic_id)))


_TOGGLES = {
    "pin": (topics.set_pinned, True),
    "unpin": (topics.set_pinned, False),
    "lock": (topics.set_locked, True),
    "unlock": (topics.set_locked, False),
}


@bp.post("/t/<int:topic_id>/<any(pin, unpin, lock, unlock):action>")
@require(Permission.MODERATE)
def toggle(topic_id, action):
    form = ActionForm()
    service, value = _TOGGLES[action]
    if _valid(form):
        attempt(service, current_user, topic_id, value)
    return redirect(_back(form, _topic_url(topic_id)))


@bp.post("/t/<int:topic_id>/move")
@require(Permission.MODERATE)
def move(topic_id):
    form = MoveForm()
    if _valid(form):
        attempt(topics.move_topic, current_user, topic_id, form.category_id.data, done=_("The topic is moved."))
    return redirect(_back(form, _topic_url(topic_id)))


@bp.post("/t/<int:topic_id>/details")
@require_login
def edit_details(topic_id):
    """Retitle and retag: the author, moderators, and members whose level unlocks it."""
    form = TopicDetailsForm()
    if _valid(form):
        attempt(topics.edit_title_and_tags, current_user, topic_id, title=form.title.data,
                 tags=split_tags(form.tags.data), done=_("The title and tags are saved."))
    return redirect(_back(form, _topic_url(topic_id)))


@bp.post("/t/<int:topic_id>/close-duplicate")
@require_login
def close_duplicate(topic_id):
    form = DuplicateForm()
    if _valid(form):
        attempt(topics.close_as_duplicate, current_user, topic_id, form.original_id.data,
                 done=_("The topic is closed as a duplicate."))
    return redirect(_back(form, _topic_url(topic_id)))


# -- following ---------------------------------------------------------------------------------

@bp.post("/follow")
@require_login
def follow():
    form = FollowForm()
    if _valid(form):
        attempt(follows.follow, current_user, form.target_type.data, form.target_id.data,
                 done=_("You are following it now: new posts will show in your feed and notifications."))
    return redirect(_back(form, url_for("community.feed")))


@bp.post("/unfollow")
@require_login
def unfollow():
    form = FollowForm()
    if _valid(form):
        attempt(follows.unfollow, current_user, form.target_type.data, form.target_id.data,
                 done=_("You no longer follow it."))
    return redirect(_back(form, url_for("community.feed")))
