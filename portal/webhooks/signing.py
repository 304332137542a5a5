"""Standard Webhooks signatures (https://www.standardwebhooks.com/): what a receiver checks.

The secret is "whsec_" + base64 of 24 to 64 random bytes. Each request
carries `webhook-id` (stable across retries), `webhook-timestamp` (Unix
seconds of this attempt) and `webhook-signature`:
"v1," + base64(HMAC-SHA256(key, f"{id}.{timestamp}.{body}")).
"""
import base64
import binascii
import hashlib
import hmac
import secrets

from flask_babel import lazy_gettext as _l

from ..errors import Invalid

PREFIX = "whsec_"
KEY_BYTES = 32
MIN_KEY_BYTES, MAX_KEY_BYTES = 24, 64


def new_secret():
    return PREFIX + base64.b64encode(secrets.token_bytes(KEY_BYTES)).decode()


def checked_secret(secret):
    """A secret an admin brought, as it is; Invalid (field `secret`) unless it is whsec_ and 24–64 bytes."""
    if not isinstance(secret, str) or not secret.startswith(PREFIX):
        raise _invalid(_l("A secret starts with whsec_ followed by base64, e.g. one Teahouse generates."))
    try:
        key = base64.b64decode(secret.removeprefix(PREFIX), validate=True)
    except (binascii.Error, ValueError):
        raise _invalid(_l("After whsec_ the secret must be base64.")) from None
    if not MIN_KEY_BYTES <= len(key) <= MAX_KEY_BYTES:
        raise _invalid(_l("The secret must stand for %(min)d to %(max)d bytes.", min=MIN_KEY_BYTES,
                          max=MAX_KEY_BYTES))
    return secret


def _invalid(message):
    return Invalid("invalid_secret", fields={"secret": message})


def signature(secret, message_id, timestamp, body: bytes):
    key = base64.b64decode(secret.removeprefix(PREFIX))
    signed = f"{message_id}.{timestamp}.".encode() + body
    return "v1," + base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()


def signed_headers(secret, message_id, timestamp, body: bytes):
    """The three Standard Webhooks headers for one attempt."""
    return {"webhook-id": message_id, "webhook-timestamp": str(timestamp),
            "webhook-signature": signature(secret, message_id, timestamp, body)}
