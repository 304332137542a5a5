"""The caller's referrals over the API: code, link, funnel and list; invitations by email."""
from datetime import datetime

from flask import jsonify
from flask_login import current_user
from pydantic import BaseModel, ConfigDict, Field

from ..extensions import db
from ..permissions import Permission, require
from ..referrals import codes, funnels, invites
from ..referrals.models import ReferralSource, ReferralStatus
from . import bp
from .community import PAGE_QUERY, PageArgs, PageOut
from .spec import documented, parse, parse_query


class FunnelOut(BaseModel):
    invited: int = Field(description="Every friend you brought: email invitations and sign-ups through your "
                                     "link or code (rejected ones excluded).")
    signed_up: int = Field(description="Friends who joined.")
    converted: int = Field(description="Friends whose company became a customer.")
    rejected: int = Field(description="Sign-ups that were not counted.")


class ReferralOut(BaseModel):
    id: int
    status: ReferralStatus = Field(description="invited, signed_up, converted, or rejected (not counted).")
    source: ReferralSource = Field(description="invite (by email), link (the share link) or code (typed).")
    friend_name: str | None = Field(description="The friend's display name once they joined.")
    invitee_email: str | None = Field(description="The address you invited (email invitations only).")
    invited_at: datetime | None
    signed_up_at: datetime | None
    converted_at: datetime | None
    created_at: datetime


class MyReferralsOut(PageOut):
    code: str
    link: str = Field(description="Your share link; friends who register through it within the cookie's "
                                  "lifetime count as yours.")
    funnel: FunnelOut
    items: list[ReferralOut]


class InviteIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    email: str = Field(max_length=254)


def referral_out(referral):
    invited = referral.source == ReferralSource.INVITE
    return ReferralOut(
        id=referral.id, status=referral.status, source=referral.source,
        friend_name=referral.invitee.name if referral.invitee is not None else None,
        invitee_email=referral.invitee_email if invited else None,
        invited_at=referral.invited_at, signed_up_at=referral.signed_up_at, converted_at=referral.converted_at,
        created_at=referral.created_at,
    ).model_dump(mode="json")


@bp.get("/me/referrals")
@require(Permission.REFER)
@documented("Your referral code, share link, funnel and referrals (paged)", response=MyReferralsOut,
            tag="referrals", query=PAGE_QUERY, errors=(401, 403, 422))
def my_referrals():
    args = parse_query(PageArgs)
    page = db.paginate(funnels.member_referrals(current_user), page=args.page, per_page=args.per_page or 20,
                       max_per_page=100, error_out=False)
    return jsonify({
        "code": current_user.referral_code, "link": codes.share_link(current_user),
        "funnel": funnels.member_funnel(current_user).as_dict(),
        "items": [referral_out(referral) for referral in page.items],
        "page": page.page, "per_page": page.per_page, "total": page.total,
    })


@bp.post("/me/referrals/invites")
@require(Permission.REFER)
@documented("Invite a friend by email; they get one email with your link", body=InviteIn, response=ReferralOut,
            status=201, tag="referrals", errors=(401, 403, 409, 415, 422, 429))
def invite_friend():
    data = parse(InviteIn)
    return jsonify(referral_out(invites.invite_friend(current_user, data.email))), 201
