"""Where an account was seen from: the address and device the self-referral rules compare."""
import sqlalchemy as sa
from flask import has_request_context, request

from ..extensions import db
from ..sqltypes import start_of_utc_day, utcnow
from .codes import device_id
from .models import Sighting


def note_sighting(user_id):
    """Record that `user_id` is using this request's address and device; at most one row per
    (user, address, device) and UTC day. Outside a request, or with neither known, nothing. In the
    current transaction.
    """
    if not has_request_context():
        return None
    ip, device = request.remote_addr, device_id()
    if not ip and not device:
        return None
    seen_today = db.session.scalar(sa.select(sa.exists().where(
        Sighting.user_id == user_id, Sighting.seen_at >= start_of_utc_day(),
        Sighting.ip_address.is_(None) if ip is None else Sighting.ip_address == ip,
        Sighting.device_id.is_(None) if device is None else Sighting.device_id == device)))
    if seen_today:
        return None
    sighting = Sighting(user_id=user_id, ip_address=ip, device_id=device, seen_at=utcnow())
    db.session.add(sighting)
    return sighting
