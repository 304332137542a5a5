"""Customer records over the API (staff): moving a customer through the lifecycle.

The company's CRM reports a first purchase here; the change runs through
`crm.services.change_lifecycle_stage`, so it is audited and whatever listens
(a referred friend's referral converting) happens in the same transaction.
"""
from datetime import datetime

from flask import jsonify
from flask_login import current_user
from pydantic import BaseModel, ConfigDict, Field

from ..crm.models import LifecycleStage, ValueTier
from ..crm.services import CAUSE_MAX, change_lifecycle_stage
from ..permissions import Permission, require
from . import bp
from .spec import documented, dump, parse


class CustomerStageIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    lifecycle_stage: LifecycleStage
    cause: str = Field(min_length=1, max_length=CAUSE_MAX, description="Why, as the audit log will show it, "
                                                                        "e.g. 'First purchase (order 4711)'.")


class CustomerOut(BaseModel):
    id: int
    external_id: str | None
    name: str
    company: str | None
    lifecycle_stage: LifecycleStage
    value_tier: ValueTier
    updated_at: datetime


@bp.patch("/customers/<int:customer_id>")
@require(Permission.EDIT_CUSTOMERS)
@documented("Move a customer to another lifecycle stage (staff); a first purchase converts referrals",
            body=CustomerStageIn, response=CustomerOut, tag="customers", errors=(401, 403, 404, 415, 422))
def change_customer_stage(customer_id):
    data = parse(CustomerStageIn)
    customer = change_lifecycle_stage(current_user, customer_id, data.lifecycle_stage, cause=data.cause)
    return jsonify(dump(CustomerOut, customer))
