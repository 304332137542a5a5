"""Rewards: the points ledger, levels, badges, daily visits and leaderboards, all driven by the spine."""


def init_app(app):
    from ..events import connect_subscribers
    from . import badges, subscribers, visits

    connect_subscribers(badges, subscribers)
    visits.init_app(app)
