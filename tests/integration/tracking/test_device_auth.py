"""Device auth: IoT Core's custom authorizer answers a walker's phone with a policy to publish to its
own walks under way and nowhere else; the local broker holds phones to the same rule (same code)."""

from __future__ import annotations

import asyncio
import base64
import json
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from tracking.authorize_device import lambda_handler

from dogwalk.auth.tokens import issue_access_token
from dogwalk.tracking import device_policy
from local.mqtt import Credentials, MqttBroker
from local.runtime import LambdaContext
from local.services import free_port
from tests.conftest import Dependencies
from tests.integration.bookings.conftest import EVERY_DAY
from tests.integration.bookings.test_walk_and_capture import accepted_walk
from tests.integration.conftest import Api
from tests.integration.marketplace.conftest import Caller, make_walker
from tests.integration.tracking.conftest import Walk

IOT = "arn:aws:iot:us-east-1:000000000000"  # local.runtime's Lambda ARN: us-east-1, account 000000000000


def connection_event(password: str | None, client_id: str | None) -> dict[str, Any]:
    """What IoT Core sends the authorizer for an MQTT CONNECT (the password base64-encoded)."""
    mqtt: dict[str, Any] = {"username": "walker-phone"}
    if password is not None:
        mqtt["password"] = base64.b64encode(password.encode()).decode()
    if client_id is not None:
        mqtt["clientId"] = client_id
    return {
        "signatureVerified": False,
        "protocols": ["tls", "mqtt"],
        "protocolData": {"tls": {"serverName": "example-ats.iot.us-east-1.amazonaws.com"}, "mqtt": mqtt},
        "connectionMetadata": {"id": "0b5e64b8-1f4f-4a59-9e8e-2d7d3c1f6a01"},
    }


def authorize(token: str | None, client_id: str | None = None) -> dict[str, Any]:
    answer: dict[str, Any] = lambda_handler(connection_event(token, client_id), LambdaContext("authorize_device"))
    return answer


def statements(answer: dict[str, Any]) -> dict[str, Any]:
    """The one policy's statements by action."""
    assert answer["isAuthenticated"] is True
    [document] = answer["policyDocuments"]
    policy = json.loads(document)  # IoT Core takes each policy as a JSON string
    assert policy["Version"] == "2012-10-17"
    return {statement["Action"]: statement for statement in policy["Statement"]}


def topic_arns(walk_id: str) -> list[str]:
    return [f"{IOT}:topic/dogwalk/walks/{walk_id}/location", f"{IOT}:topic/dogwalk/walks/{walk_id}/event"]


@pytest.fixture
def other_walker(api: Api, state: Dependencies, admin: Caller) -> Caller:
    return make_walker(api, state, admin, weekly=EVERY_DAY)


# The authorizer (functions/authorize_device.py), as IoT Core invokes it


def test_a_walkers_token_allows_connecting_as_itself_and_publishing_to_its_walk_only(walk: Walk) -> None:
    answer = authorize(walk.walker.token, f"{walk.walker.id}-phone")

    allowed = statements(answer)
    assert allowed == {
        "iot:Connect": {"Effect": "Allow", "Action": "iot:Connect", "Resource": f"{IOT}:client/{walk.walker.id}-phone"},
        "iot:Publish": {"Effect": "Allow", "Action": "iot:Publish", "Resource": topic_arns(walk.id)},
    }
    assert answer["principalId"] == walk.walker.id.replace("-", "")  # IoT Core allows [a-zA-Z0-9]{1,128}
    assert answer["refreshAfterInSeconds"] == 300  # a walk that ends or starts is seen within 5 minutes
    assert 300 <= answer["disconnectAfterInSeconds"] <= 15 * 60  # no longer than the token lives


def test_the_client_id_must_be_the_walkers_own(walk: Walk) -> None:
    assert "iot:Connect" in statements(authorize(walk.walker.token, walk.walker.id))
    for someone_else in (walk.owner.id, f"{walk.owner.id}-phone", f"x{walk.walker.id}", "phone"):
        assert "iot:Connect" not in statements(authorize(walk.walker.token, someone_else)), someone_else


def test_another_walkers_token_is_authenticated_but_may_not_publish_to_this_walk(
    walk: Walk, other_walker: Caller
) -> None:
    allowed = statements(authorize(other_walker.token, other_walker.id))

    assert set(allowed) == {"iot:Connect"}  # no walk under way: no publish statement at all


def test_an_owners_token_is_refused(walk: Walk) -> None:
    assert authorize(walk.owner.token, walk.owner.id) == {"isAuthenticated": False}


@pytest.mark.parametrize(
    "password",
    ["expired", "garbage", "tampered", None],
    ids=["expired", "garbage", "tampered", "no-password"],
)
def test_an_expired_or_invalid_token_is_refused(walk: Walk, password: str | None) -> None:
    tokens = {
        "expired": issue_access_token(walk.walker.id, "walker", now=time.time() - 3600)[0],
        "garbage": "not-a-token",
        "tampered": walk.walker.token[:-4] + ("AAAA" if not walk.walker.token.endswith("AAAA") else "BBBB"),
        None: None,
    }

    assert authorize(tokens[password], walk.walker.id) == {"isAuthenticated": False}


def test_a_password_that_is_not_base64_is_refused(walk: Walk) -> None:
    event = connection_event(None, walk.walker.id)
    event["protocolData"]["mqtt"]["password"] = "%%% not base64 %%%"

    assert lambda_handler(event, LambdaContext("authorize_device")) == {"isAuthenticated": False}


def test_the_token_may_come_as_a_bearer_header(walk: Walk) -> None:
    event = connection_event(None, walk.walker.id)
    event["protocols"] = ["tls", "http", "mqtt"]
    event["protocolData"]["http"] = {"headers": {"Authorization": f"Bearer {walk.walker.token}"}, "queryString": ""}

    answer = lambda_handler(event, LambdaContext("authorize_device"))

    assert statements(answer)["iot:Publish"]["Resource"] == topic_arns(walk.id)


def test_a_suspended_walker_is_refused(api: Api, walk: Walk, admin: Caller) -> None:
    assert api.post(f"/v1/admin/users/{walk.walker.id}/suspend", token=admin.token).status == 204

    assert authorize(walk.walker.token, walk.walker.id) == {"isAuthenticated": False}


def test_a_completed_walk_is_no_longer_listed(api: Api, walk: Walk) -> None:
    assert api.post(f"/v1/bookings/{walk.booking_id}/complete", token=walk.walker.token).status == 200

    assert set(statements(authorize(walk.walker.token, walk.walker.id))) == {"iot:Connect"}


def test_publishing_is_allowed_to_exactly_the_location_and_event_topics_of_the_walks() -> None:
    walks = {"3f0c8a52-5b6e-4c1d-9a57-2f1e8d9c4b10"}
    ours = "dogwalk/walks/3f0c8a52-5b6e-4c1d-9a57-2f1e8d9c4b10"

    assert device_policy.may_publish(walks, f"{ours}/location")
    assert device_policy.may_publish(walks, f"{ours}/event")
    for refused in (
        f"{ours}/chat",
        f"{ours}/location/more",
        f"{ours}/location\n",
        f"x/{ours}/event",
        "dogwalk/walks/6a1f3d2e-0000-4000-8000-000000000000/location",
        "dogwalk/walks/+/location",
    ):
        assert not device_policy.may_publish(walks, refused), refused  # fmt: skip
    assert not device_policy.may_publish(set(), f"{ours}/location")


# The local broker: the same rule on a real amqtt broker


@pytest.fixture
def broker_with() -> Iterator[Callable[..., MqttBroker]]:
    started: list[MqttBroker] = []

    def start(**options: Any) -> MqttBroker:
        broker = MqttBroker(free_port(), **options)
        broker.start()
        started.append(broker)
        return broker

    yield start
    for broker in started:
        broker.stop()


@pytest.fixture
def broker(broker_with: Callable[..., MqttBroker]) -> MqttBroker:
    return broker_with()


async def connected(broker: MqttBroker, username: str, password: str, client_id: str) -> Any:
    from amqtt.client import MQTTClient

    client = MQTTClient(client_id=client_id, config={"auto_reconnect": False})
    await client.connect(Credentials(username, password).url_for(broker.url))
    return client


async def listening(broker: MqttBroker, topic_filter: str = "dogwalk/walks/+/+") -> Any:
    """A platform client (the topic rules' kind) subscribed to every walk's messages."""
    from amqtt.mqtt.constants import QOS_1

    client = await connected(broker, broker.internal.username, broker.internal.password, "iot-rule-test")
    assert await client.subscribe([(topic_filter, QOS_1)]) == [QOS_1]
    return client


async def received(client: Any, timeout_s: float = 5.0) -> tuple[str, bytes]:
    message = await client.deliver_message(timeout_duration=timeout_s)
    return message.topic, bytes(message.data)


async def publish(client: Any, topic: str, payload: bytes) -> None:
    from amqtt.mqtt.constants import QOS_1

    await client.publish(topic, payload, qos=QOS_1)  # acknowledged, whether forwarded or dropped


def started(api: Api, booking_id: str, walker: Caller) -> str:
    answer = api.post(f"/v1/bookings/{booking_id}/start", token=walker.token)
    assert answer.status == 200, answer.body
    return str(answer.json()["walk"]["id"])


def test_the_walkers_publish_to_its_walk_reaches_the_platform(broker: MqttBroker, walk: Walk) -> None:
    async def scenario() -> tuple[str, bytes]:
        rules = await listening(broker)
        phone = await connected(broker, "walker-phone", walk.walker.token, f"{walk.walker.id}-phone")
        await publish(phone, walk.mqtt_topic, b'{"_type":"location","lat":40.756,"lon":-73.986,"tst":1800000000}')
        got = await received(rules)
        await phone.disconnect()
        await rules.disconnect()
        return got

    topic, payload = asyncio.run(scenario())

    assert topic == walk.mqtt_topic
    assert json.loads(payload)["lat"] == 40.756


def test_another_walkers_publish_to_your_walk_never_arrives(
    api: Api, broker: MqttBroker, walk: Walk, other_walker: Caller, card: str, capsys: pytest.CaptureFixture[str]
) -> None:
    # the other walker has a walk of its own under way, to which it may publish
    theirs = started(api, accepted_walk(api, walk.owner, other_walker, card)["id"], other_walker)

    async def scenario() -> list[tuple[str, bytes]]:
        rules = await listening(broker)
        intruder = await connected(broker, "walker-phone", other_walker.token, other_walker.id)
        await publish(intruder, f"dogwalk/walks/{walk.id}/location", b'{"_type":"location","forged":true}')
        await publish(intruder, f"dogwalk/walks/{walk.id}/event", b'{"type":"poo","forged":true}')
        # one connection's messages are handled in order: had the forged ones passed, they would come first
        await publish(intruder, f"dogwalk/walks/{theirs}/location", b'{"_type":"location","own":true}')
        got = [await received(rules)]
        await intruder.disconnect()
        with pytest.raises(asyncio.TimeoutError):
            got.append(await received(rules, timeout_s=0.3))
        await rules.disconnect()
        return got

    assert asyncio.run(scenario()) == [(f"dogwalk/walks/{theirs}/location", b'{"_type":"location","own":true}')]
    reported = capsys.readouterr().err
    assert f"dropped a publish of {other_walker.id!r}" in reported and f"dogwalk/walks/{walk.id}/location" in reported
    assert other_walker.token not in reported


def test_a_walk_that_starts_is_picked_up_at_the_next_policy_refresh(
    api: Api, broker_with: Callable[..., MqttBroker], walk: Walk, other_walker: Caller, card: str
) -> None:
    broker = broker_with(policy_refresh_s=0.0)  # refreshed at every publish rather than every minute
    booking = accepted_walk(api, walk.owner, other_walker, card)

    async def scenario() -> tuple[str, tuple[str, bytes]]:
        rules = await listening(broker)
        phone = await connected(broker, "walker-phone", other_walker.token, other_walker.id)
        await publish(phone, f"dogwalk/walks/{walk.id}/location", b'{"n":1}')  # not theirs: dropped
        walk_id = await asyncio.to_thread(started, api, booking["id"], other_walker)
        await publish(phone, f"dogwalk/walks/{walk_id}/location", b'{"n":2}')
        got = await received(rules)
        await phone.disconnect()
        await rules.disconnect()
        return walk_id, got

    walk_id, got = asyncio.run(scenario())
    assert got == (f"dogwalk/walks/{walk_id}/location", b'{"n":2}')


def test_a_bad_password_an_owner_or_a_foreign_client_id_cannot_connect(broker: MqttBroker, walk: Walk) -> None:
    from amqtt.errors import ConnectError

    refused = [
        ("walker-phone", "not-a-token", walk.walker.id),
        ("walker-phone", issue_access_token(walk.walker.id, "walker", now=time.time() - 3600)[0], walk.walker.id),
        ("walker-phone", walk.owner.token, walk.owner.id),
        ("walker-phone", walk.walker.token, walk.owner.id),  # a walker posing as another client
        (broker.internal.username, "guessed", "iot-rule-guess"),
    ]

    async def attempt(username: str, password: str, client_id: str) -> None:
        client = await connected(broker, username, password, client_id)
        await client.disconnect()

    for username, password, client_id in refused:
        with pytest.raises(ConnectError):
            asyncio.run(attempt(username, password, client_id))


def test_phones_may_not_subscribe_and_platform_clients_may_not_publish(
    broker: MqttBroker, walk: Walk, capsys: pytest.CaptureFixture[str]
) -> None:
    from amqtt.mqtt.constants import QOS_1

    async def scenario() -> tuple[list[int], list[tuple[str, bytes]]]:
        rules = await listening(broker)
        phone = await connected(broker, "walker-phone", walk.walker.token, walk.walker.id)
        answer = await phone.subscribe([("dogwalk/walks/+/+", QOS_1)])
        await publish(rules, walk.mqtt_topic, b'{"from":"platform"}')
        await publish(phone, walk.mqtt_topic, b'{"from":"phone"}')
        got = [await received(rules)]
        with pytest.raises(asyncio.TimeoutError):
            got.append(await received(rules, timeout_s=0.3))
        await phone.disconnect()
        await rules.disconnect()
        return answer, got

    subscribed, got = asyncio.run(scenario())
    assert subscribed == [0x80]
    assert got == [(walk.mqtt_topic, b'{"from":"phone"}')]
    reported = capsys.readouterr().err
    assert "refused the subscription of" in reported and "dropped a publish of internal client" in reported
