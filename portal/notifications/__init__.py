"""Notifications: rows written from the activity spine, read in the reader's language."""


def init_app(app):
    from ..events import connect_subscribers
    from . import subscribers

    connect_subscribers(subscribers)
