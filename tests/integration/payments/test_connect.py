"""Walkers' payouts accounts (Stripe Connect) on real PostgreSQL and localstripe: onboarding through
the gateway's own page over real HTTP, the gateway's signed `account.updated` reaching our Connect
webhook, the account's status from our copy, one connected account per walker however the first
call is retried, and the Connect webhook's own secret (a forged or platform-signed event is 400)."""

from __future__ import annotations

import json
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from typing import Any

from dogwalk.adapters import db
from dogwalk.config import settings
from dogwalk.payments import connect, gateway
from tests.conftest import Dependencies
from tests.gateway_events import CONNECT_PATH, CONNECT_SECRET, PLATFORM_SECRET, GatewayEvents
from tests.integration.bookings.conftest import gateway as gateway_client
from tests.integration.conftest import Answer, Api, assert_problem
from tests.integration.marketplace.conftest import Caller, rows
from tests.integration.payments.conftest import (
    CONNECT_WEBHOOK,
    PLATFORM_WEBHOOK,
    account_of,
    deliver,
    http,
    onboard,
    start_onboarding,
    submit_onboarding,
)
from tests.integration.payments.test_webhooks import signature

ACCOUNT = "/v1/walkers/me/payouts/account"


def account_status(api: Api, walker: Caller) -> dict[str, Any]:
    answer = api.get(ACCOUNT, token=walker.token)
    assert answer.status == 200, answer.body
    found: dict[str, Any] = answer.json()
    return found


def account_event(account: dict[str, Any], *, created: int | None = None, event_id: str | None = None) -> str:
    body = {"id": event_id or f"evt_{uuid.uuid4().hex}", "object": "event", "type": "account.updated",
            "account": account["id"], "created": int(time.time()) if created is None else created,
            "data": {"object": account}}  # fmt: skip
    return json.dumps(body)


def send_signed(api: Api, payload: str, *, secret: str = CONNECT_SECRET, path: str = CONNECT_WEBHOOK) -> Answer:
    headers = {"Content-Type": "application/json; charset=utf-8", "Stripe-Signature": signature(payload, secret=secret)}
    return api.post(path, raw=payload.encode(), headers=headers)


def gateway_account(account_id: str) -> dict[str, Any]:
    found: dict[str, Any] = gateway_client().v1.accounts.retrieve(account_id).to_dict()
    return found


def accounts_of(walker: Caller) -> list[str]:
    every = gateway_client().v1.accounts.list(params={"limit": 100}).auto_paging_iter()
    return [account.id for account in every if account.to_dict().get("metadata", {}).get("walker_id") == walker.id]


def received() -> list[dict[str, Any]]:
    return rows(settings().database_url, "SELECT id, type FROM webhook_events")


# --- onboarding ----------------------------------------------------------------------------------


def test_a_walker_onboards_on_the_gateways_page_and_its_signed_event_enables_payouts(
    api: Api, state: Dependencies, gateway_events: GatewayEvents, walker: Caller
) -> None:
    assert account_status(api, walker) == {"status": "none", "payouts_enabled": False, "requirements_due": []}

    link = start_onboarding(api, walker)

    assert link["url"].startswith(settings().stripe_api_base + "/_local/connect/onboarding/")
    assert datetime.fromisoformat(link["expires_at"]).timestamp() > time.time()  # minutes, by the gateway's clock
    waiting = account_status(api, walker)
    assert (waiting["status"], waiting["payouts_enabled"]) == ("pending", False)
    assert "external_account" in waiting["requirements_due"]
    account = account_of(state.database_url, walker)
    made = gateway_account(account)  # what we asked the gateway for: Express-like, transfers only, US
    assert made["controller"]["stripe_dashboard"] == {"type": "express"}
    assert made["controller"]["fees"] == {"payer": "application"}
    assert made["controller"]["losses"] == {"payments": "application"}
    assert made["controller"]["requirement_collection"] == "stripe"
    assert (made["country"], made["capabilities"], made["metadata"]) == ("US", {"transfers": "inactive"},
                                                                         {"walker_id": walker.id})  # fmt: skip

    done = submit_onboarding(link["url"])  # a real HTTP client: GET the page, POST its form

    assert done.status == 303
    assert done.headers["Location"] == settings().app_base_url + connect.RETURN_PATH
    assert account_status(api, walker)["status"] == "pending"  # back in the app: not ours to believe yet
    delivery = gateway_events.wait_for(CONNECT_PATH, "account.updated", account)
    assert delivery.event["account"] == account
    answer = deliver(api, delivery)  # the gateway's body and signature, unchanged
    assert answer.status == 200, answer.body
    assert answer.json() == {"received": True, "outcome": "account enabled"}
    assert account_status(api, walker) == {"status": "enabled", "payouts_enabled": True, "requirements_due": []}
    assert {"id": delivery.event["id"], "type": "account.updated"} in received()


def test_the_helper_onboards_a_walker_end_to_end(
    api: Api, state: Dependencies, gateway_events: GatewayEvents, walker: Caller
) -> None:
    account = onboard(api, state, gateway_events, walker)

    assert gateway_account(account)["capabilities"] == {"transfers": "active"}
    assert account_status(api, walker)["status"] == "enabled"


def test_each_call_gives_a_new_single_use_link_to_the_one_account(
    api: Api, state: Dependencies, walker: Caller
) -> None:
    first, second = start_onboarding(api, walker), start_onboarding(api, walker)

    assert first["url"] != second["url"]
    assert len(accounts_of(walker)) == 1
    assert rows(state.database_url, "SELECT count(*) AS n FROM connected_accounts") == [{"n": 1}]
    assert submit_onboarding(first["url"], "leave").status == 303
    again = http("GET", first["url"])  # used once: the gateway sends the walker to refresh_url
    assert again.status == 302 and again.headers["Location"] == settings().app_base_url + connect.REFRESH_PATH


def test_four_concurrent_first_calls_make_one_connected_account(api: Api, state: Dependencies, walker: Caller) -> None:
    from payments import start_payouts_onboarding

    from local.api_gateway import rest_event
    from local.runtime import LambdaContext

    route = start_payouts_onboarding.route.declaration
    event = rest_event("POST", route.path, "", [], b"", route, {}, "203.0.113.7", str(uuid.uuid4()))
    event["requestContext"]["authorizer"] = {"sub": walker.id, "role": "walker", "principalId": walker.id}
    together = threading.Barrier(4)

    def call(_: int) -> int:
        together.wait(timeout=10)
        try:
            answer = start_payouts_onboarding.lambda_handler(json.loads(json.dumps(event)), LambdaContext("x"))
        finally:
            db.reset()  # this thread's connection
        return int(answer["statusCode"])

    with ThreadPoolExecutor(max_workers=4) as pool:
        statuses = list(pool.map(call, range(4)))

    # the gateway answers a copy of the first creation, or 409 while it runs; never a second account
    assert set(statuses) <= {200, 409} and 200 in statuses, statuses
    assert len(accounts_of(walker)) == 1
    assert rows(state.database_url, "SELECT account_id FROM connected_accounts") == [
        {"account_id": accounts_of(walker)[0]}
    ]


def test_leaving_the_onboarding_page_keeps_the_account_pending(
    api: Api, state: Dependencies, gateway_events: GatewayEvents, walker: Caller
) -> None:
    link = start_onboarding(api, walker)

    left = submit_onboarding(link["url"], "leave")

    assert left.status == 303 and left.headers["Location"] == settings().app_base_url + connect.RETURN_PATH
    assert account_status(api, walker)["status"] == "pending"
    assert gateway_account(account_of(state.database_url, walker))["payouts_enabled"] is False


def test_only_a_walker_has_a_payouts_account(api: Api, owner, admin) -> None:
    for caller in (owner, admin):
        assert_problem(api.get(ACCOUNT, token=caller.token), 403, "forbidden")
        assert_problem(api.post("/v1/walkers/me/payouts/onboarding", token=caller.token), 403, "forbidden")


# --- the account's status, from the gateway's events ---------------------------------------------


def test_a_submitted_account_the_gateway_disables_is_restricted_with_what_is_due(
    api: Api, state: Dependencies, walker: Caller
) -> None:
    start_onboarding(api, walker)
    account = gateway_account(account_of(state.database_url, walker))
    due = ["individual.verification.document", "external_account"]
    account.update(details_submitted=True, payouts_enabled=False, capabilities={"transfers": "inactive"},
                   requirements={**account["requirements"], "currently_due": due, "past_due": due,
                                 "disabled_reason": "requirements.past_due"})  # fmt: skip

    answer = send_signed(api, account_event(account))

    assert answer.json()["outcome"] == "account restricted", answer.body
    assert account_status(api, walker) == {"status": "restricted", "payouts_enabled": False,
                                           "requirements_due": sorted(due)}  # fmt: skip


def test_an_older_event_arriving_late_changes_nothing(
    api: Api, state: Dependencies, gateway_events: GatewayEvents, walker: Caller
) -> None:
    account_id = onboard(api, state, gateway_events, walker)
    before = gateway_account(account_id)
    before.update(details_submitted=False, payouts_enabled=False, capabilities={"transfers": "inactive"})

    answer = send_signed(api, account_event(before, created=int(time.time()) - 3600))

    assert answer.json()["outcome"] == "older than our copy", answer.body
    assert account_status(api, walker)["status"] == "enabled"


def test_a_replayed_account_event_is_applied_once(
    api: Api, state: Dependencies, gateway_events: GatewayEvents, walker: Caller
) -> None:
    account = onboard(api, state, gateway_events, walker)
    delivery = gateway_events.wait_for(CONNECT_PATH, "account.updated", account)

    again = deliver(api, delivery)

    assert again.status == 200 and again.json()["outcome"] == "duplicate"
    assert [row for row in received() if row["id"] == delivery.event["id"]] == [
        {"id": delivery.event["id"], "type": "account.updated"}
    ]


def test_an_event_about_an_account_that_is_not_ours_is_recorded_and_ignored(api: Api) -> None:
    answer = send_signed(api, account_event({"id": "acct_someone_else", "object": "account"}))

    assert answer.status == 200 and answer.json()["outcome"] == "unknown account"


def test_the_weekly_job_reads_an_account_whose_event_never_came(
    api: Api, state: Dependencies, gateway_events: GatewayEvents, walker: Caller
) -> None:
    link = start_onboarding(api, walker)
    assert submit_onboarding(link["url"]).status == 303  # its account.updated is left undelivered

    assert connect.enabled_account(walker.id) == account_of(state.database_url, walker)
    assert account_status(api, walker)["status"] == "enabled"


# --- the Connect webhook's own secret ------------------------------------------------------------


def test_a_connect_event_with_a_wrong_signature_is_400_and_changes_nothing(api: Api, walker: Caller) -> None:
    payload = account_event({"id": "acct_forged", "object": "account", "details_submitted": True})

    forged = send_signed(api, payload, secret="whsec_someone_else")
    stale = api.post(CONNECT_WEBHOOK, raw=payload.encode(), headers={
        "Content-Type": "application/json", "Stripe-Signature": signature(payload, at=time.time() - 301,
                                                                          secret=CONNECT_SECRET)})  # fmt: skip

    assert_problem(forged, 400, "invalid_signature")
    assert_problem(stale, 400, "invalid_signature")
    assert received() == []


def test_an_event_signed_with_the_platforms_secret_is_400_on_the_connect_endpoint(
    api: Api, state: Dependencies, walker: Caller
) -> None:
    start_onboarding(api, walker)
    account = gateway_account(account_of(state.database_url, walker))
    account.update(details_submitted=True, payouts_enabled=True, capabilities={"transfers": "active"})

    answer = send_signed(api, account_event(account), secret=PLATFORM_SECRET)

    assert_problem(answer, 400, "invalid_signature")
    assert account_status(api, walker)["status"] == "pending"
    assert received() == []


def test_an_event_signed_with_the_connect_secret_is_400_on_the_platform_endpoint(api: Api) -> None:
    payload = account_event({"id": "acct_x", "object": "account"})

    assert_problem(send_signed(api, payload, path=PLATFORM_WEBHOOK), 400, "invalid_signature")


def test_without_a_connect_secret_the_endpoint_answers_503_for_the_gateway_to_retry(api: Api) -> None:
    from dogwalk.adapters import aws

    secret = json.dumps({"api_key": "sk_test_tests", "webhook_secret": PLATFORM_SECRET})
    aws.client("secretsmanager").put_secret_value(SecretId=settings().payments_secret_id, SecretString=secret)
    gateway._credentials.cache_clear()
    try:
        answer = send_signed(api, account_event({"id": "acct_x", "object": "account"}))
    finally:
        gateway._credentials.cache_clear()

    assert_problem(answer, 503, "service_unavailable")
