"""Referrals: share links and codes, email invites, fraud rules, conversion and funnels."""


def init_app(app):
    from ..events import connect_subscribers
    from . import subscribers

    connect_subscribers(subscribers)
