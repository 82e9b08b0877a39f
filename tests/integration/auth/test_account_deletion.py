"""DELETE /v1/auth/me: re-authenticated, refused while a walk is requested, accepted or under way or
a walker is owed money; then the personal data is erased in one transaction while bookings, ratings
and the ledger stay; login, refresh and the live access token stop at once; the email may register
again and is told of the deletion."""

from __future__ import annotations

import uuid
from typing import Any

import psycopg
import pytest
from argon2 import PasswordHasher

from tests.conftest import Dependencies
from tests.integration.auth.conftest import (
    DELETED_SUBJECT,
    PASSWORD,
    AuthApi,
    Mail,
    assert_problem,
    login,
    query,
    refresh,
    register,
)
from tests.integration.bookings.conftest import EVERY_DAY, next_weekday_at, walk
from tests.integration.conftest import Answer
from tests.integration.marketplace.conftest import Caller, create_dog, make_walker, new_caller, run_sql

OWNER_EMAIL, OWNER_NAME, OWNER_PHONE = "olive@example.com", "Olive Quince-Owner", "+12025550143"
DOG_NAME, DOG_NOTES, ADDRESS = "Biscuitello", "Allergic to chicken; vet Dr Farrow", "1540 Broadway, apt 9Q"


def _delete(api: AuthApi, token: str, **body: Any) -> Answer:
    return api.delete("/v1/auth/me", json_body=body or {"password": PASSWORD}, token=token)


def _registered_owner(api: AuthApi) -> tuple[Caller, dict[str, Any]]:
    answer = api.post("/v1/auth/register", json_body={"email": OWNER_EMAIL, "password": PASSWORD, "role": "owner",
                                                     "name": OWNER_NAME, "phone": OWNER_PHONE})  # fmt: skip
    assert answer.status == 201, answer.body
    pair = answer.json()
    return Caller(pair["user"]["id"], "owner", pair["access_token"]), pair


@pytest.fixture
def walker(api: AuthApi, state: Dependencies) -> Caller:
    return make_walker(api, state, new_caller(state, "admin"), weekly=EVERY_DAY)


def _accepted_walk(api: AuthApi, owner: Caller, walker: Caller) -> str:
    card = api.post("/v1/payments/methods", json_body={"gateway_token": "pm_card_visa"}, token=owner.token)
    assert card.status == 201, card.body
    dog = create_dog(api, owner, name=DOG_NAME, notes=DOG_NOTES)["id"]
    body = {
        **walk(walker, [dog], next_weekday_at(10)),
        "payment_method_id": card.json()["id"],
        "notes": "Key under mat",
    }
    body["pickup"]["address"] = ADDRESS
    booking = api.post("/v1/bookings", json_body=body, token=owner.token)
    assert booking.status == 201, booking.body
    assert api.post(f"/v1/bookings/{booking.json()['id']}/accept", token=walker.token).status == 200
    return str(booking.json()["id"])


def test_refused_while_a_walk_is_accepted_then_erased_and_locked_out(
    api: AuthApi, walker: Caller, mail: Mail, state: Dependencies
) -> None:
    owner, pair = _registered_owner(api)
    booking_id = _accepted_walk(api, owner, walker)

    refused = _delete(api, owner.token)

    assert_problem(refused, 409, "invalid_state")
    assert login(api, OWNER_EMAIL).status == 200
    assert len(_traces_of(state, OWNER_EMAIL, OWNER_NAME, OWNER_PHONE, DOG_NAME, DOG_NOTES, ADDRESS)) >= 6
    cancelled = api.post(f"/v1/bookings/{booking_id}/cancel", json_body={}, token=owner.token)
    assert cancelled.status == 200, cancelled.body

    deleted = _delete(api, owner.token)

    assert deleted.status == 202, deleted.body
    assert deleted.json()["status"] == "deleted"
    # every way in is closed: the password, the refresh token, the live access token
    assert_problem(login(api, OWNER_EMAIL), 401, "invalid_credentials")
    assert_problem(refresh(api, pair["refresh_token"]), 401, "invalid_token")
    assert_problem(api.get("/v1/auth/me", token=owner.token), 401, "account_suspended")
    assert_problem(api.get("/v1/auth/me/export", token=owner.token), 401, "account_suspended")
    # the records stay, naming an anonymous account
    booking = query(state.database_url, "SELECT status, owner_id::text, pickup_address, notes FROM bookings")
    assert booking == [{"status": "cancelled", "owner_id": owner.id, "pickup_address": None, "notes": None}]
    user = query(state.database_url, "SELECT name, email::text, phone, password_hash, totp_secret, deleted_at"
                                     " FROM users WHERE id = %s", owner.id)[0]  # fmt: skip
    assert (user["name"], user["phone"], user["password_hash"], user["totp_secret"]) == (
        "Deleted user",
        None,
        None,
        None,
    )
    assert user["email"].endswith("@deleted.invalid") and user["deleted_at"] is not None
    assert query(state.database_url, "SELECT name, notes FROM dogs") == [{"name": "Deleted dog", "notes": None}]
    # the goodbye email went to the address the account had, and the address left the outbox with it
    mail.deliver()
    assert [email["subject"] for email in mail.emails(OWNER_EMAIL)].count(DELETED_SUBJECT) == 1
    assert _traces_of(state, OWNER_EMAIL, OWNER_NAME, OWNER_PHONE, DOG_NAME, DOG_NOTES, ADDRESS) == []
    # and the address may register again, as a new account
    again = register(api, OWNER_EMAIL)
    assert again["user"]["id"] != owner.id


def _traces_of(state: Dependencies, *values: str) -> list[str]:
    """Every (table.column) of the database whose text holds one of `values`."""
    found = []
    with psycopg.connect(state.database_url, autocommit=True) as conn:
        columns = conn.execute(
            "SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = 'public'"
            " AND data_type IN ('text', 'jsonb', 'json', 'character varying', 'USER-DEFINED')"
            " AND table_name IN (SELECT tablename FROM pg_tables WHERE schemaname = 'public')"
        ).fetchall()
        for table, column in columns:
            for value in values:
                hit = conn.execute(
                    f'SELECT 1 FROM "{table}" WHERE "{column}"::text ILIKE %s LIMIT 1',  # noqa: S608 - the catalog's names
                    (f"%{value}%",),
                ).fetchone()
                if hit:
                    found.append(f"{table}.{column}: {value}")
    return found


def test_a_requested_walk_is_refused_too(api: AuthApi, walker: Caller) -> None:
    owner, _ = _registered_owner(api)
    dog = create_dog(api, owner)["id"]
    card = api.post("/v1/payments/methods", json_body={"gateway_token": "pm_card_visa"}, token=owner.token).json()
    requested = api.post("/v1/bookings", json_body={**walk(walker, [dog], next_weekday_at(11)),
                                                    "payment_method_id": card["id"]}, token=owner.token)  # fmt: skip
    assert requested.status == 201, requested.body

    assert_problem(_delete(api, owner.token), 409, "invalid_state")


def test_the_wrong_password_deletes_nothing(api: AuthApi, state: Dependencies) -> None:
    pair = register(api)

    assert_problem(_delete(api, pair["access_token"], password="not my password"), 401, "invalid_credentials")
    body = assert_problem(_delete(api, pair["access_token"], totp_code="123456"), 422, "validation_error")

    assert body["errors"][0]["loc"] == ["body", "password"]
    assert query(state.database_url, "SELECT name, deleted_at FROM users") == [
        {"name": "Sam Walker", "deleted_at": None}
    ]
    assert login(api).status == 200


def test_a_walker_who_is_still_owed_money_is_refused(api: AuthApi, walker: Caller, state: Dependencies) -> None:
    run_sql(
        state.database_url,
        "UPDATE users SET password_hash = %s WHERE id = %s",
        PasswordHasher().hash(PASSWORD),
        walker.id,
    )
    payable = f"walker:{walker.id}:payable"
    with psycopg.connect(state.database_url, autocommit=True) as conn, conn.transaction():
        conn.execute(
            "INSERT INTO ledger_accounts (id, kind) VALUES ('gateway:clearing', 'asset') ON CONFLICT DO NOTHING"
        )
        conn.execute(
            "INSERT INTO ledger_accounts (id, kind, user_id) VALUES (%s, 'liability', %s)", (payable, walker.id)
        )
        transaction = str(uuid.uuid4())
        conn.execute("INSERT INTO ledger_transactions (id, kind, reference) VALUES (%s, 'capture', %s)",
                     (transaction, f"capture:{uuid.uuid4()}"))  # fmt: skip
        conn.execute(
            "INSERT INTO ledger_entries (transaction_id, account_id, amount_cents) VALUES"
            " (%s, 'gateway:clearing', 2500), (%s, %s, -2500)",
            (transaction, transaction, payable),
        )

    assert_problem(_delete(api, walker.token), 409, "invalid_state")

    with psycopg.connect(state.database_url, autocommit=True) as conn, conn.transaction():
        transaction = str(uuid.uuid4())
        conn.execute("INSERT INTO ledger_transactions (id, kind, reference) VALUES (%s, 'payout', %s)",
                     (transaction, f"payout:{walker.id}:2026-W01"))  # fmt: skip
        conn.execute(
            "INSERT INTO ledger_entries (transaction_id, account_id, amount_cents) VALUES"
            " (%s, %s, 2500), (%s, 'gateway:clearing', -2500)",
            (transaction, payable, transaction),
        )
    answer = _delete(api, walker.token)

    assert answer.status == 202, answer.body
    profile = query(state.database_url, "SELECT bio, lat, lon, verification FROM walker_profiles")
    assert profile == [{"bio": "", "lat": 0, "lon": 0, "verification": "unverified"}]
    assert query(state.database_url, "SELECT count(*) AS n FROM availability_windows") == [{"n": 0}]
    assert query(state.database_url, "SELECT sum(amount_cents) AS total FROM ledger_entries") == [{"total": 0}]
    assert api.get(f"/v1/walkers/{walker.id}", token=new_caller(state, "owner").token).status == 404


def test_devices_go_with_their_push_endpoints(api: AuthApi, mail: Mail, state: Dependencies) -> None:
    from dogwalk.adapters import aws

    pair = register(api)
    device = api.post("/v1/notifications/devices", json_body={"platform": "fcm", "token": "fcm-token-1"},
                      token=pair["access_token"])  # fmt: skip
    assert device.status == 201, device.body
    arn = query(state.database_url, "SELECT endpoint_arn FROM devices")[0]["endpoint_arn"]

    assert _delete(api, pair["access_token"]).status == 202
    assert query(state.database_url, "SELECT count(*) AS n FROM devices") == [{"n": 0}]
    mail.deliver()  # the push consumer deletes the endpoints the deletion names

    with pytest.raises(aws.client("sns").exceptions.NotFoundException):
        aws.client("sns").get_endpoint_attributes(EndpointArn=arn)
    payloads = query(state.database_url, "SELECT payload FROM outbox WHERE event_type = 'account.deleted'")
    assert [sorted(row["payload"]) for row in payloads] == [["deleted_at"]]  # address and endpoints gone


def test_an_account_without_a_password_confirms_with_a_totp_code(api: AuthApi, state: Dependencies) -> None:
    import pyotp

    pair = register(api)
    secret = api.post("/v1/auth/mfa/totp/setup", token=pair["access_token"]).json()["secret"]
    api.post("/v1/auth/mfa/totp/enable", json_body={"code": pyotp.TOTP(secret).now()}, token=pair["access_token"])
    run_sql(state.database_url, "UPDATE users SET password_hash = NULL")  # as an account made with Apple

    assert_problem(_delete(api, pair["access_token"], totp_code="000000"), 401, "invalid_mfa_code")
    import time

    answer = _delete(api, pair["access_token"], totp_code=pyotp.TOTP(secret).at(time.time() + 30))

    assert answer.status == 202, answer.body
    assert query(state.database_url, "SELECT mfa_enabled, totp_secret FROM users") == [
        {"mfa_enabled": False, "totp_secret": None}
    ]


def test_an_admin_may_not_delete_itself_here(api: AuthApi, state: Dependencies) -> None:
    admin = new_caller(state, "admin")

    assert_problem(_delete(api, admin.token), 403, "forbidden")
