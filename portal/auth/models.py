import enum
import hashlib
import secrets
from datetime import date, datetime

import sqlalchemy as sa
from flask_login import UserMixin
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from ..levels import level_named
from ..permissions import ROLE_PERMISSIONS, STAFF_ROLES, Permission, Role, can
from ..sqltypes import UTCDateTime, str_enum, utcnow


class UserStatus(enum.StrEnum):
    ACTIVE = "active"
    SUSPENDED = "suspended"
    DELETED = "deleted"


def new_referral_code():
    return secrets.token_urlsafe(6).replace("-", "x").replace("_", "y")


class Team(db.Model):
    __tablename__ = "teams"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(80), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    members: Mapped[list["User"]] = relationship(back_populates="team", order_by="User.name")


class User(UserMixin, db.Model):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(sa.String(254), unique=True)
    password_hash: Mapped[str | None] = mapped_column(sa.String(255))
    name: Mapped[str] = mapped_column(sa.String(80))
    # The @handle used in mentions; assigned on first save (see usernames.py).
    username: Mapped[str] = mapped_column(sa.String(30), unique=True)
    role: Mapped[Role] = mapped_column(str_enum(Role), default=Role.MEMBER, index=True)
    status: Mapped[UserStatus] = mapped_column(str_enum(UserStatus), default=UserStatus.ACTIVE)
    locale: Mapped[str | None] = mapped_column(sa.String(8))
    timezone: Mapped[str] = mapped_column(sa.String(64), default="UTC")
    bio: Mapped[str] = mapped_column(sa.Text, default="")
    referral_code: Mapped[str] = mapped_column(sa.String(16), unique=True, default=new_referral_code)
    # users and customers point at each other; this key is added after both tables exist.
    customer_id: Mapped[int | None] = mapped_column(sa.ForeignKey("customers.id", use_alter=True), index=True)
    team_id: Mapped[int | None] = mapped_column(sa.ForeignKey("teams.id"), index=True)
    points: Mapped[int] = mapped_column(default=0)
    # The level the points reach now, kept by the ledger with the points (see levels.py).
    level_number: Mapped[int] = mapped_column(default=1, server_default="1")
    # The highest level the member has been told they reached: a level-up notifies once.
    level_reached: Mapped[int] = mapped_column(default=1, server_default="1")
    # Daily visits (UTC days): the last one and how many days in a row.
    last_visit_on: Mapped[date | None]
    visit_streak: Mapped[int] = mapped_column(default=0, server_default="0")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The announcement channels ("notification", "email") the member said no to (crm.announcements).
    announcement_opt_outs: Mapped[list] = mapped_column(sa.JSON, default=list, server_default="[]")
    # What moderation put in force (portal/moderation/sanctions.py), kept here so permission checks need no query:
    # a suspension's end (None with status suspended: for good) and a silence's end. Both end by the clock.
    suspended_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    silenced_until: Mapped[datetime | None] = mapped_column(UTCDateTime)

    team: Mapped[Team | None] = relationship(back_populates="members")
    customer = relationship("Customer", back_populates="users", foreign_keys=[customer_id])

    # "<user id>:<secret>" of the server-side session this user object came in with (auth/sessions.py).
    login_id = None

    def get_id(self):
        if self.login_id is None:
            raise RuntimeError("no login session: sign in through auth.sessions.sign_in()")
        return self.login_id

    @property
    def is_active(self):
        """Active, or suspended until a time now past (the suspension ended by itself)."""
        return self.status == UserStatus.ACTIVE or self.suspension_over(utcnow())

    def suspension_over(self, now):
        return self.status == UserStatus.SUSPENDED and self.suspended_until is not None and self.suspended_until <= now

    def silenced_at(self, now):
        """Whether a silence binds at `now` (read only)."""
        return self.silenced_until is not None and self.silenced_until > now

    @property
    def is_staff(self):
        return self.role in STAFF_ROLES

    @property
    def is_community_staff(self):
        """Moderators and admins: the staff members see flaired on posts. Sales are staff, but not community staff."""
        return Permission.MODERATE in ROLE_PERMISSIONS[Role(self.role)]

    def can(self, permission):
        return can(self, permission)

    @property
    def level(self):
        return level_named(self.level_number)

    @property
    def initials(self):
        words = [w for w in self.name.split() if w[:1].isalnum()]
        if not words:
            return "?"
        if len(words) == 1 or not words[0][0].isascii():
            return words[0][:2].upper() if words[0][0].isascii() else words[0][:1]
        return (words[0][0] + words[-1][0]).upper()

    @property
    def avatar_hue(self):
        """A stable colour index (0-11) for the initials avatar."""
        return int(hashlib.sha1(str(self.id).encode()).hexdigest(), 16) % 12

    def __repr__(self):
        return f"<User {self.id} {self.email} {self.role}>"


class ApiToken(db.Model):
    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), index=True)
    name: Mapped[str] = mapped_column(sa.String(80))
    # Only a SHA-256 of the token is kept; the token itself is shown once.
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    prefix: Mapped[str] = mapped_column(sa.String(12))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship(foreign_keys=[user_id])

    def is_usable(self, now):
        return self.revoked_at is None and (self.expires_at is None or self.expires_at > now)


class LoginSession(db.Model):
    """One signed-in browser; the session and remember-me cookies open the account only while it lasts."""

    __tablename__ = "login_sessions"
    __table_args__ = (sa.Index("ix_login_sessions_user_live", "user_id", "ended_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    # Only a SHA-256 of the cookie's secret is kept.
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    user_agent: Mapped[str] = mapped_column(sa.String(200), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
