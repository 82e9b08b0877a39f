"""Email verification: registration mails a single-use token (24 h), `POST /v1/auth/email/verify`
redeems it, `email_verified` on `/v1/auth/me` follows; asking again is rate limited; the email is
text and HTML through the email channel, and shown by the local mailbox."""

from __future__ import annotations

import html
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser

from dogwalk.auth import email_verification
from dogwalk.errors import BadRequest
from tests.conftest import Dependencies
from tests.integration.auth.conftest import VERIFY_SUBJECT, AuthApi, Mail, assert_problem, query, register


def _me(api: AuthApi, token: str) -> dict[str, object]:
    answer = api.get("/v1/auth/me", token=token)
    assert answer.status == 200, answer.body
    body: dict[str, object] = answer.json()
    return body


def test_registration_mails_a_token_that_verifies_the_email_once(api: AuthApi, mail: Mail) -> None:
    pair = register(api)
    assert pair["user"]["email_verified"] is False
    mail.deliver()

    token = mail.token("sam@example.com", VERIFY_SUBJECT)
    answer = api.post("/v1/auth/email/verify", json_body={"token": token})

    assert answer.status == 204, answer.body
    assert _me(api, pair["access_token"])["email_verified"] is True
    assert_problem(api.post("/v1/auth/email/verify", json_body={"token": token}), 400, "invalid_token")


def test_only_the_tokens_hash_is_stored(api: AuthApi, mail: Mail, state: Dependencies) -> None:
    register(api)
    mail.deliver()
    token = mail.token("sam@example.com", VERIFY_SUBJECT)

    stored = query(state.database_url, "SELECT token_hash, kind FROM account_tokens")
    assert [row["kind"] for row in stored] == ["verify_email"]
    assert token.encode() not in bytes(stored[0]["token_hash"])
    everything = query(state.database_url, "SELECT payload::text AS p FROM outbox")
    assert all(token not in row["p"] for row in everything)


def test_the_email_is_text_and_escaped_html_sent_through_the_channel(api: AuthApi, mail: Mail) -> None:
    register(api, name="<b>Sam</b> & co")
    mail.deliver()

    email = mail.emails("sam@example.com")[0]

    assert email["subject"] == VERIFY_SUBJECT
    assert "24 hours" in email["text"] and "#token=" in email["text"]
    assert "<b>Sam</b>" not in email["html"]
    links = _links(email["html"])
    assert len(links) == 1 and html.unescape(links[0]).split("#token=")[1] in email["text"]
    assert datetime.fromisoformat(email["sent_at"]) <= datetime.now(UTC)


def _links(document: str) -> list[str]:
    found: list[str] = []

    class Links(HTMLParser):
        def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
            found.extend(value or "" for name, value in attrs if tag == "a" and name == "href")

    Links().feed(document)
    return found


def test_a_token_expires_after_24_hours(api: AuthApi, mail: Mail) -> None:
    pair = register(api)
    mail.deliver()
    token = mail.token("sam@example.com", VERIFY_SUBJECT)

    later = datetime.now(UTC) + timedelta(hours=24, minutes=1)
    try:
        email_verification.verify_email(token, "198.51.100.9", now=later)
    except BadRequest as refused:
        assert refused.code == "invalid_token"
    else:
        raise AssertionError("an expired token verified the email")
    assert _me(api, pair["access_token"])["email_verified"] is False


def test_asking_again_mails_a_new_token_and_either_verifies(api: AuthApi, mail: Mail) -> None:
    pair = register(api)
    mail.deliver()

    answer = api.post("/v1/auth/email/verification", token=pair["access_token"])
    mail.deliver()

    assert answer.status == 202, answer.body
    assert answer.json()["status"] == "accepted"
    emails = [item for item in mail.emails("sam@example.com") if item["subject"] == VERIFY_SUBJECT]
    assert len(emails) == 2
    assert (
        api.post("/v1/auth/email/verify", json_body={"token": mail.token("sam@example.com", VERIFY_SUBJECT)}).status
        == 204
    )


def test_a_verified_email_gets_no_more_verification_emails(api: AuthApi, mail: Mail) -> None:
    pair = register(api)
    mail.deliver()
    api.post("/v1/auth/email/verify", json_body={"token": mail.token("sam@example.com", VERIFY_SUBJECT)})

    assert api.post("/v1/auth/email/verification", token=pair["access_token"]).status == 202
    mail.deliver()

    assert len(mail.emails("sam@example.com")) == 1


def test_asking_is_rate_limited_and_fails_closed_without_redis(
    api: AuthApi, redis_goes_down: Callable[[], None]
) -> None:
    pair = register(api)
    for _ in range(5):
        assert api.post("/v1/auth/email/verification", token=pair["access_token"]).status == 202

    limited = api.post("/v1/auth/email/verification", token=pair["access_token"])

    assert_problem(limited, 429, "rate_limited")
    assert int(limited.headers["retry-after"]) > 0
    redis_goes_down()
    assert_problem(api.post("/v1/auth/email/verification", token=pair["access_token"]), 503, "service_unavailable")


def test_an_unknown_token_is_400_invalid_token(api: AuthApi) -> None:
    assert_problem(api.post("/v1/auth/email/verify", json_body={"token": "not-a-token"}), 400, "invalid_token")
