"""Leads: buying signals from community activity, scores with reasons, the lead pool and the pipeline."""


def init_app(app):
    from .. import outbox
    from ..events import connect_subscribers
    from . import daily, signals

    connect_subscribers(signals)
    outbox.register_daily("leads.daily", daily.run_daily_message, lane=outbox.Lane.CRM,
                          hour=app.config["LEADS_DAILY_HOUR"])
