"""The CRM side: customer records, linking members to them, touchpoints, the customer 360, and segments."""


def init_app(app):
    from ..events import connect_subscribers
    from . import announcements, complaints, dimensions, linking, sales, subscribers

    connect_subscribers(linking, subscribers, complaints, dimensions, sales)
    dimensions.init_app(app)
    announcements.init_app(app)
