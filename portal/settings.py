"""Settings an admin changes at run time (point rules, level thresholds, later lead rules).

Environment variables (`config.py`) give the defaults an operator deploys
with; a row here overrides them for the whole community, in every process.
Each request reads a setting at most once: the value is kept on `g`.
"""
from datetime import datetime

import sqlalchemy as sa
from flask import g, has_request_context
from sqlalchemy.orm import Mapped, mapped_column

from .extensions import db
from .sqltypes import UTCDateTime, utcnow


class Setting(db.Model):
    __tablename__ = "settings"

    key: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    value: Mapped[dict] = mapped_column(sa.JSON)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))


def _cache():
    # Only a request is short enough to keep a value for; the CLI and the
    # outbox worker live for hours and read each time.
    if not has_request_context():
        return {}
    if "settings" not in g:
        g.settings = {}
    return g.settings


def stored_setting(key):
    """The stored value of `key` (a dict), or {} when nobody has changed it."""
    cache = _cache()
    if key not in cache:
        cache[key] = db.session.scalar(sa.select(Setting.value).where(Setting.key == key)) or {}
    return cache[key]


def store_setting(actor, key, value):
    """Replace the stored value of `key` in the current transaction (the caller audits and commits)."""
    setting = db.session.get(Setting, key)
    if setting is None:
        setting = Setting(key=key)
        db.session.add(setting)
    setting.value = dict(value)
    setting.updated_by_id = actor.id if actor is not None else None
    _cache()[key] = setting.value
