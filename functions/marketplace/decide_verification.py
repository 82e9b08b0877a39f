"""POST /v1/admin/verifications/{walker_id}: approve or reject a pending walker; the decision is
recorded (who, when, why) and the walker is notified."""

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field, model_validator

from dogwalk.edge.api import Route
from dogwalk.edge.schemas import Write
from dogwalk.marketplace import walkers

route = Route(__name__)


class Decision(Write):
    decision: Literal["approve", "reject"]
    reason: str | None = Field(default=None, max_length=2000)

    @model_validator(mode="after")
    def rejection_has_a_reason(self) -> "Decision":
        if self.decision == "reject" and not (self.reason and self.reason.strip()):
            raise ValueError("a rejection needs a reason the walker can act on")
        return self


class DecisionOut(BaseModel):
    walker_id: str
    status: Literal["verified", "rejected"]
    reason: str | None
    decided_by: str
    decided_at: datetime


@route.handle
def decide_verification(walker_id: str, decision: Decision) -> DecisionOut:
    outcome = walkers.decide_verification(walker_id, route.principal.user_id, decision.decision, decision.reason)
    return DecisionOut.model_validate(outcome)


lambda_handler = route.lambda_handler
