"""The CRM side: customer records, linking members to them, touchpoints, the customer 360, and segments."""


def init_app(app):
    from ..events import connect_subscribers
    from . import announcements, complaints, dimensions, linking, subscribers

    connect_subscribers(linking, subscribers, complaints, dimensions)
    dimensions.init_app(app)
    announcements.init_app(app)
