"""Referral links, the member's referrals page and the staff's referral funnel."""
from flask import Blueprint, flash, make_response, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from ..errors import DomainError, NotFound
from ..extensions import db
from ..forms import show_errors
from ..inputs import page_number
from ..layout import is_page_request
from ..permissions import Permission, require
from ..rewards.rules import Rule, points_for
from . import codes, funnels, invites
from .forms import InviteForm
from .fraud import reason_label
from .landing import landing as landing_page
from .models import ReferralSource, ReferralStatus

bp = Blueprint("referrals", __name__)

# Visitors carry a device id only where an account begins; their other pages stay cookie-free (cacheable).
DEVICE_ID_PAGES = frozenset({"referrals.landing", "auth.register", "auth.login"})

SOURCE_LABELS = {
    ReferralSource.LINK: _l("Share link"),
    ReferralSource.CODE: _l("Referral code"),
    ReferralSource.INVITE: _l("Email invitation"),
}
# What members read about their own referrals: a rejected one is "not counted", never why.
MEMBER_STATUS_LABELS = {
    ReferralStatus.INVITED: _l("Invited"),
    ReferralStatus.SIGNED_UP: _l("Joined"),
    ReferralStatus.CONVERTED: _l("Became a customer"),
    ReferralStatus.REJECTED: _l("Not counted"),
}


@bp.after_app_request
def give_device_id(response):
    if is_page_request() and (current_user.is_authenticated or request.endpoint in DEVICE_ID_PAGES):
        codes.give_device_id(response)
    return response


@bp.get("/r/<code>")
def landing(code):
    """Who invites you and why join; a visitor's browser remembers the link for REFERRAL_COOKIE_DAYS."""
    try:
        page = landing_page(code, current_user)
    except NotFound:
        return render_template("referrals/unknown_link.html"), 404
    response = make_response(render_template("referrals/landing.html", page=page,
                                              link=codes.share_link(page.referrer)))
    if not current_user.is_authenticated:
        codes.remember_attribution(response, page.referrer.referral_code)
    return response


@bp.get("/referrals")
@require(Permission.REFER)
def mine():
    return _mine(InviteForm())


@bp.post("/referrals/invites")
@require(Permission.REFER)
def invite():
    form = InviteForm()
    status = 422
    if form.validate_on_submit():
        try:
            referral = invites.invite_friend(current_user, form.email.data)
        except DomainError as error:
            show_errors(form, error)
            status = error.status
        else:
            flash(_("Your invitation to %(email)s is on its way.", email=referral.invitee_email), "success")
            return redirect(url_for("referrals.mine"))
    return _mine(form, status)


def _mine(form, status=200):
    page = db.paginate(funnels.member_referrals(current_user), per_page=20)
    rewards = {"joined": points_for(Rule.REFERRAL_SIGNED_UP), "converted": points_for(Rule.REFERRAL_CONVERTED),
               "friend": points_for(Rule.REFERRED_FRIEND_CONVERTED)}
    return render_template("referrals/mine.html", form=form, page=page, funnel=funnels.member_funnel(current_user),
                           link=codes.share_link(current_user), rewards=rewards, sources=SOURCE_LABELS,
                           statuses=MEMBER_STATUS_LABELS), status


@bp.get("/staff/referrals")
@require(Permission.VIEW_ANALYTICS)
def staff_funnel():
    report = funnels.staff_funnel(request.args.get("period"), page=page_number())
    return render_template("referrals/staff.html", report=report, reason_label=reason_label)
