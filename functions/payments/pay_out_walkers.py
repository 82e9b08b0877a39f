"""Scheduled weekly: each walker's available balance (earned more than 48 hours before the
schedule's time) is transferred to their connected account, posted to the ledger, and announced
(`payout.sent`); once per walker and week. Walkers without enabled payouts keep their balance; a
failed transfer is retried by the next run. The scheduled event's `time` is the payout's moment,
so a retried invocation pays what the first would have."""

from datetime import datetime
from typing import Any

from aws_lambda_powertools.utilities.data_classes import EventBridgeEvent
from aws_lambda_powertools.utilities.typing import LambdaContext

from dogwalk.adapters.observability import instrument, logger, metrics
from dogwalk.payments import payouts


def pay_out_walkers(event: dict[str, Any], context: LambdaContext) -> dict[str, int]:
    outcome = payouts.pay_out_all(now=datetime.fromisoformat(EventBridgeEvent(event).time))
    metrics.add_metric(name="WalkersPaid", unit="Count", value=outcome["walkers"])
    metrics.add_metric(name="PaidOutCents", unit="Count", value=outcome["paid_cents"])
    metrics.add_metric(name="PayoutsAwaitingOnboarding", unit="Count", value=outcome["awaiting_onboarding"])
    metrics.add_metric(name="PayoutTransfersFailed", unit="Count", value=outcome["failed"])
    logger.info("weekly payout", extra=outcome)
    return outcome


lambda_handler = instrument(pay_out_walkers)
