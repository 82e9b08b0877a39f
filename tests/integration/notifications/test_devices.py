"""Push devices through the API and SNS mobile push on moto: registration makes the token's platform
endpoint, a token moves to the latest user who registered it, a device is deleted by its owner only,
and a token the provider refused (its endpoint disabled) is forgotten at the next push. SMS goes
only to an E.164 number."""

from __future__ import annotations

from typing import Any

import pytest

from dogwalk.adapters import aws, db
from dogwalk.events import outbox, relay
from dogwalk.notifications import deliveries
from tests.conftest import Dependencies
from tests.integration.conftest import Api, assert_problem
from tests.integration.marketplace.conftest import Caller, new_caller, rows, run_sql
from tests.integration.notifications.conftest import database_url, deliveries_of, drain, pushes_to, sent_texts


def register(api: Api, person: Caller, token: str, platform: str = "fcm") -> Any:
    return api.post("/v1/notifications/devices", json_body={"platform": platform, "token": token}, token=person.token)


def device_rows() -> list[dict[str, Any]]:
    return rows(database_url(), "SELECT id::text, user_id::text, platform, token, endpoint_arn FROM devices")


def endpoint_attributes(arn: str) -> dict[str, str]:
    return dict(aws.client("sns").get_endpoint_attributes(EndpointArn=arn)["Attributes"])


def event_for(person: Caller, event_type: str = "payout.sent") -> deliveries.Event:
    """The event as the push queue hands it over."""
    with db.transaction() as conn:
        outbox.record(conn, event_type, person.id, person.role, {"payout_id": "p", "amount_cents": 100,
                                                                 "currency": "USD", "period": "2026-W47"})  # fmt: skip
    relay.publish()
    queue = "notifications-sms" if event_type == "walk.started" else "notifications-push"
    return deliveries.Event.model_validate(drain(queue)[0])


def test_registering_makes_the_tokens_platform_endpoint(senders, api: Api, owner: Caller) -> None:
    answer = register(api, owner, "apns-token-abc", "apns")

    assert answer.status == 201, answer.body
    assert set(answer.json()) == {"id", "platform"} and answer.json()["platform"] == "apns"
    (device,) = device_rows()
    assert (device["id"], device["user_id"], device["token"]) == (answer.json()["id"], owner.id, "apns-token-abc")
    assert device["endpoint_arn"].startswith(
        senders["DOGWALK_PUSH_APNS_APPLICATION_ARN"].replace(":app/", ":endpoint/")
    )
    assert endpoint_attributes(device["endpoint_arn"]) == {"Token": "apns-token-abc", "Enabled": "true"}


def test_a_token_moves_to_the_latest_user_who_registered_it(senders, api: Api, state: Dependencies,
                                                            owner: Caller) -> None:  # fmt: skip
    other = new_caller(state, "owner")
    first = register(api, owner, "shared-phone-token").json()

    second = register(api, other, "shared-phone-token")

    assert second.status == 201 and second.json()["id"] == first["id"]
    (device,) = device_rows()
    assert device["user_id"] == other.id
    assert deliveries.deliver(event_for(owner), "push") == "skipped"  # the previous user no longer gets pushes
    assert deliveries.deliver(event_for(other), "push") == "sent"
    assert len(pushes_to(device["endpoint_arn"])) == 1
    assert_problem(api.delete(f"/v1/notifications/devices/{first['id']}", token=owner.token), 404, "not_found")


def test_a_device_is_deleted_by_its_user_only_and_its_endpoint_goes(senders, api: Api, state: Dependencies,
                                                                    owner: Caller) -> None:  # fmt: skip
    device = register(api, owner, "fcm-token-xyz").json()["id"]
    arn = device_rows()[0]["endpoint_arn"]
    stranger = new_caller(state, "walker")

    assert_problem(api.delete(f"/v1/notifications/devices/{device}", token=stranger.token), 404, "not_found")
    assert_problem(api.delete("/v1/notifications/devices/not-an-id", token=owner.token), 404, "not_found")
    assert api.delete(f"/v1/notifications/devices/{device}", token=owner.token).status == 204

    assert device_rows() == []
    with pytest.raises(aws.client("sns").exceptions.NotFoundException):
        endpoint_attributes(arn)
    assert_problem(api.delete(f"/v1/notifications/devices/{device}", token=owner.token), 404, "not_found")


def test_a_token_the_provider_refused_is_forgotten_at_the_next_push(senders, api: Api, owner: Caller) -> None:
    register(api, owner, "fcm-stale")
    live = register(api, owner, "fcm-live").json()["id"]
    stale = next(device for device in device_rows() if device["token"] == "fcm-stale")
    # what SNS does when FCM answers UNREGISTERED (or APNs 410 Unregistered / BadDeviceToken)
    aws.client("sns").set_endpoint_attributes(EndpointArn=stale["endpoint_arn"], Attributes={"Enabled": "false"})
    event = event_for(owner)

    assert deliveries.deliver(event, "push") == "sent"

    assert [device["id"] for device in device_rows()] == [live]
    with pytest.raises(aws.client("sns").exceptions.NotFoundException):
        endpoint_attributes(stale["endpoint_arn"])
    assert deliveries_of(event.id)["push"]["detail"] == "1 device(s)"


def test_registering_a_refused_token_again_enables_its_endpoint(senders, api: Api, owner: Caller) -> None:
    register(api, owner, "fcm-back")
    arn = device_rows()[0]["endpoint_arn"]
    aws.client("sns").set_endpoint_attributes(EndpointArn=arn, Attributes={"Enabled": "false"})

    assert register(api, owner, "fcm-back").status == 201

    assert device_rows()[0]["endpoint_arn"] == arn
    assert endpoint_attributes(arn)["Enabled"] == "true"


@pytest.mark.parametrize("body", [{"platform": "webpush", "token": "t"}, {"platform": "fcm", "token": ""},
                                  {"platform": "fcm", "token": "has space"}, {"platform": "fcm"},
                                  {"platform": "fcm", "token": "t", "user_id": "x"}])  # fmt: skip
def test_a_registration_that_is_not_a_platform_and_a_token_is_refused(senders, api: Api, owner: Caller,
                                                                      body: dict[str, Any]) -> None:  # fmt: skip
    assert_problem(api.post("/v1/notifications/devices", json_body=body, token=owner.token), 422, "validation_error")


@pytest.mark.parametrize(("phone", "status", "detail"), [
    ("+12125550199", "sent", None),
    (None, "skipped", "no phone number"),
    ("212-555-0199", "skipped", "phone number not in E.164 form"),
    ("+012125550199", "skipped", "phone number not in E.164 form"),
])  # fmt: skip
def test_sms_goes_only_to_an_e164_number(senders, owner: Caller, phone: str | None, status: str,
                                         detail: str | None) -> None:  # fmt: skip
    run_sql(database_url(), "UPDATE users SET phone = %s WHERE id = %s", phone, owner.id)
    event = event_for(owner, "walk.started")

    assert deliveries.deliver(event, "sms") == status

    assert sent_texts() == ([(phone, f"DogWalk: {event_text()}")] if status == "sent" else [])
    if detail:
        assert deliveries_of(event.id)["sms"]["detail"] == detail


def event_text() -> str:
    return "Your walker is walking your dog now. Follow along live in the app."
