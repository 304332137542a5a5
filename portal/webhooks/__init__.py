"""Outbound webhooks: the company's other systems hear lead, referral and customer events as signed POSTs.

An admin names an address and the events it wants (pages in views.py, the
API in portal/api/webhooks.py); delivery.py turns each of those activities
into one logged delivery per subscribed webhook, in the action's own
transaction, and sends it from the outbox's webhook lane, signed as Standard
Webhooks defines (signing.py), only ever to public addresses (targets.py).
"""


def init_app(app):
    from .. import outbox
    from ..events import connect_subscribers
    from . import delivery

    connect_subscribers(delivery)
    delivery.listen_for_commits()
    outbox.register_handler(delivery.TOPIC, delivery.deliver, lane=outbox.Lane.WEBHOOK)
