"""Moderation: linked accounts, staff notes, and the review queue with its sources, decisions and digest."""


def init_app(app):
    from .. import outbox
    from ..events import connect_subscribers
    from . import digest, resubmit, subscribers

    connect_subscribers(subscribers, resubmit)
    outbox.register_daily("moderation.digest", digest.run_digest_message, lane=outbox.Lane.MAIL,
                          hour=app.config["MODERATION_DIGEST_HOUR"])
