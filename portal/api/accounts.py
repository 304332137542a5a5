"""Accounts over the API: register, tokens, the caller's profile."""
from datetime import datetime

from flask import jsonify, request
from flask_login import current_user
from pydantic import BaseModel, ConfigDict, Field

from ..auth import limits, services
from ..auth.sessions import record_login
from ..auth.tokens import issue_token, revoke_token, tokens_visible_to
from ..errors import Invalid, Unauthorized
from ..extensions import db
from ..permissions import require_login
from ..rewards.badges import badges_of
from . import bp
from .spec import documented, dump, page_out, parse


class RegisterIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    email: str = Field(max_length=254)
    password: str = Field(max_length=128)
    name: str = Field(max_length=200)
    referral_code: str | None = Field(default=None, max_length=16)
    locale: str | None = Field(default=None, max_length=8)


class TokenIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    email: str = Field(max_length=254)
    password: str = Field(max_length=128)
    name: str = Field(default="API", max_length=80)


class TokenOut(BaseModel):
    token: str
    id: int
    expires_at: datetime | None


class LevelOut(BaseModel):
    number: int
    key: str
    threshold: int


class HeldBadgeOut(BaseModel):
    key: str
    name: str = Field(description="The badge's name in the caller's language.")
    tier: str = Field(description="gold, silver or bronze.")
    awarded_at: datetime


class MeOut(BaseModel):
    id: int
    email: str
    name: str
    role: str
    points: int
    level: LevelOut
    locale: str | None
    timezone: str
    bio: str
    referral_code: str
    customer_id: int | None
    created_at: datetime
    # Not a column of the user: me() fills it from the badge holdings.
    badges: list[HeldBadgeOut] = Field(default_factory=list, description="The badges you hold, newest first.")


class UserOut(BaseModel):
    id: int
    name: str
    role: str
    points: int
    created_at: datetime


class TokenInfo(BaseModel):
    id: int
    user_id: int
    name: str
    prefix: str
    created_at: datetime
    expires_at: datetime | None
    last_used_at: datetime | None
    revoked_at: datetime | None


class TokenPage(BaseModel):
    items: list[TokenInfo]
    page: int
    per_page: int
    total: int


@bp.post("/register")
@limits.registration
@documented("Create a member account", body=RegisterIn, response=UserOut, status=201, auth=False,
            tag="accounts", errors=(400, 415, 422, 429))
def register():
    data = parse(RegisterIn)
    user = services.register(email=data.email, password=data.password, name=data.name, locale=data.locale,
                             referral_code=data.referral_code, ip=request.remote_addr)
    return jsonify(dump(UserOut, user)), 201


@bp.post("/tokens")
@limits.sign_in
@limits.failed_sign_ins_per_account
@documented("Exchange email and password for a bearer token", body=TokenIn, response=TokenOut, status=201,
            auth=False, tag="accounts", errors=(401, 403, 415, 422, 429))
def create_token():
    data = parse(TokenIn)
    try:
        user = services.authenticate(data.email, data.password)
    except Invalid as error:
        raise Unauthorized(error.code, error.message) from None
    raw, token = issue_token(user, data.name)
    record_login(user)  # commits the token with the login
    return jsonify({"token": raw, "id": token.id, "expires_at": dump(TokenInfo, token)["expires_at"]}), 201


@bp.get("/tokens")
@require_login
@documented("List API tokens: your own, or everyone's for admins", response=TokenPage, tag="accounts",
            query={"page": "integer", "per_page": "integer"})
def list_tokens():
    return jsonify(page_out(TokenInfo, db.paginate(tokens_visible_to(current_user), max_per_page=100)))


@bp.delete("/tokens/<int:token_id>")
@require_login
@documented("Revoke a token (your own, or any for admins)", response=TokenInfo, tag="accounts",
            errors=(401, 404))
def delete_token(token_id):
    return jsonify(dump(TokenInfo, revoke_token(current_user, token_id)))


@bp.get("/me")
@require_login
@documented("The caller's profile, role, points, level and badges", response=MeOut, tag="accounts", errors=(401,))
def me():
    held = [dump(HeldBadgeOut, badge) for badge in badges_of(current_user.id)]
    return jsonify(dump(MeOut, current_user) | {"badges": held})
