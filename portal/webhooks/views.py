"""The admin's webhook pages: the list, the new and edit forms, and each webhook's delivery log with its
redeliver and test-ping buttons."""
from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from ..admin.views import operations_facts
from ..errors import DomainError
from ..extensions import db
from ..forms import attempt, show_errors
from ..permissions import Permission, require
from . import services
from .forms import ActionForm, NewWebhookForm, WebhookForm
from .models import DeliveryStatus

bp = Blueprint("webhooks", __name__)
bp.context_processor(operations_facts)

PER_PAGE = 25
# How each delivery's state shows: (pill class, label). Pending after a failed attempt is "retrying".
STATES = {
    "delivered": ("pill", DeliveryStatus.DELIVERED.label),
    "failed": ("pill pill--suspended", DeliveryStatus.FAILED.label),
    "pending": ("pill pill--draft", DeliveryStatus.PENDING.label),
    "retrying": ("pill pill--draft", _l("Retrying")),
}


def state_of(delivery):
    if delivery is None:
        return None
    if delivery.status == DeliveryStatus.PENDING and delivery.attempts:
        return STATES["retrying"]
    return STATES[str(delivery.status)]


@bp.get("/")
@require(Permission.MANAGE_WEBHOOKS)
def index():
    rows = [(webhook, last, state_of(last)) for webhook, last in services.webhooks_with_last_delivery(current_user)]
    return render_template("webhooks/index.html", rows=rows)


@bp.route("/new", methods=["GET", "POST"])
@require(Permission.MANAGE_WEBHOOKS)
def new():
    form = NewWebhookForm()
    if form.validate_on_submit():
        try:
            webhook = services.create_webhook(current_user, url=form.url.data, events=form.events.data or [],
                                              description=form.description.data, active=form.active.data,
                                              secret=form.secret.data or None)
        except DomainError as error:
            show_errors(form, error)
        else:
            flash(_("Webhook created."), "success")
            # The secret is in this answer only: no redirect, nothing kept in the session.
            return _log_page(webhook, new_secret=webhook.secret)
    return render_template("webhooks/form.html", form=form, webhook=None), 422 if form.errors else 200


@bp.route("/<int:webhook_id>/edit", methods=["GET", "POST"])
@require(Permission.MANAGE_WEBHOOKS)
def edit(webhook_id):
    webhook = services.get_webhook(current_user, webhook_id)
    form = WebhookForm(obj=webhook)
    if form.validate_on_submit():
        try:
            services.update_webhook(current_user, webhook_id, url=form.url.data, events=form.events.data or [],
                                    description=form.description.data, active=form.active.data)
        except DomainError as error:
            show_errors(form, error)
            webhook = services.get_webhook(current_user, webhook_id)
        else:
            flash(_("Webhook saved."), "success")
            return redirect(url_for("webhooks.deliveries", webhook_id=webhook_id))
    return render_template("webhooks/form.html", form=form, webhook=webhook, actions=ActionForm()), \
        422 if form.errors else 200


@bp.get("/<int:webhook_id>")
@require(Permission.MANAGE_WEBHOOKS)
def deliveries(webhook_id):
    return _log_page(services.get_webhook(current_user, webhook_id))


def _log_page(webhook, new_secret=None):
    page = db.paginate(services.deliveries_query(webhook), per_page=PER_PAGE, error_out=False)
    rows = [(delivery, state_of(delivery)) for delivery in page.items]
    return render_template("webhooks/deliveries.html", webhook=webhook, page=page, rows=rows,
                           new_secret=new_secret, actions=ActionForm())


@bp.post("/<int:webhook_id>/ping")
@require(Permission.MANAGE_WEBHOOKS)
def ping(webhook_id):
    attempt(services.send_ping, current_user, webhook_id,
            done=_("Test ping queued. It is at the top of the log; reload in a moment to see the answer."))
    return redirect(url_for("webhooks.deliveries", webhook_id=webhook_id))


@bp.post("/<int:webhook_id>/deliveries/<int:delivery_id>/redeliver")
@require(Permission.MANAGE_WEBHOOKS)
def redeliver(webhook_id, delivery_id):
    attempt(services.redeliver, current_user, webhook_id, delivery_id,
            done=_("Queued to send again, with the same webhook-id. Reload in a moment to see the answer."))
    return redirect(url_for("webhooks.deliveries", webhook_id=webhook_id, page=request.args.get("page")))


@bp.post("/<int:webhook_id>/secret")
@require(Permission.MANAGE_WEBHOOKS)
def rotate_secret(webhook_id):
    webhook = services.rotate_secret(current_user, webhook_id)
    flash(_("The webhook has a new secret. The old one no longer signs anything."), "success")
    return _log_page(webhook, new_secret=webhook.secret)


@bp.post("/<int:webhook_id>/delete")
@require(Permission.MANAGE_WEBHOOKS)
def delete(webhook_id):
    services.delete_webhook(current_user, webhook_id)
    flash(_("Webhook deleted."), "success")
    return redirect(url_for("webhooks.index"))
