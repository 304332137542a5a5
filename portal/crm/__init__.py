"""The CRM side: customer records, linking members to them, touchpoints and the customer 360."""


def init_app(app):
    from ..events import connect_subscribers
    from . import linking, subscribers

    connect_subscribers(linking, subscribers)
