"""The CRM side: customer records, linking members to them, touchpoints, the customer 360, and segments."""


def init_app(app):
    from ..events import connect_subscribers
    from . import announcements, linking, subscribers

    connect_subscribers(linking, subscribers)
    announcements.init_app(app)
