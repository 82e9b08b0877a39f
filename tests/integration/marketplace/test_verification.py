"""Verification: a walker submits documents, an admin approves or rejects. Every decision is an
append-only audit row and one `verification.decided` event for the walker, written in the
transaction of the decision; only admins decide."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

import psycopg
import pytest

from tests.conftest import Dependencies
from tests.integration.marketplace.conftest import (
    DOCUMENTS,
    PROFILE,
    Caller,
    MarketApi,
    assert_problem,
    create_dog,
    decide,
    names_field,
    new_caller,
    put_profile,
    put_weekly,
    rows,
    submit,
)


def _pending_walker(api: MarketApi, state: Dependencies) -> Caller:
    walker = new_caller(state, "walker")
    put_profile(api, walker)
    assert submit(api, walker).status == 202
    return walker


def _decisions(state: Dependencies) -> list[dict]:
    return rows(state.database_url, "SELECT * FROM verification_decisions ORDER BY decided_at")


def _events(state: Dependencies) -> list[dict]:
    return rows(state.database_url, "SELECT * FROM outbox WHERE event_type = 'verification.decided'")


def _status(state: Dependencies, walker: Caller) -> str:
    return rows(state.database_url, "SELECT verification FROM walker_profiles WHERE user_id = %s", walker.id)[0][
        "verification"
    ]


def test_a_walker_submits_and_is_pending(api: MarketApi, state: Dependencies, walker: Caller) -> None:
    put_profile(api, walker)

    answer = submit(api, walker)

    assert answer.status == 202
    assert answer.json() == {"status": "pending"}
    assert _status(state, walker) == "pending"


def test_submitting_before_a_profile_exists_is_a_409(api: MarketApi, walker: Caller) -> None:
    assert_problem(submit(api, walker), 409, "invalid_state")


def test_a_submission_needs_known_document_kinds(api: MarketApi, walker: Caller) -> None:
    put_profile(api, walker)
    body = {"documents": [{"kind": "selfie", "reference": "s3://x"}]}

    assert names_field(api.post("/v1/walkers/me/verification", json_body=body, token=walker.token), "kind")
    assert names_field(
        api.post("/v1/walkers/me/verification", json_body={"documents": []}, token=walker.token), "documents"
    )


def test_admin_lists_pending_walkers_with_their_documents(api: MarketApi, state: Dependencies, admin: Caller) -> None:
    first, second = _pending_walker(api, state), _pending_walker(api, state)
    put_profile(api, new_caller(state, "walker"))  # unverified: not in the pending queue

    answer = api.get("/v1/admin/verifications?status=pending", token=admin.token)

    assert answer.status == 200
    items = answer.json()["items"]
    assert [item["walker_id"] for item in items] == [first.id, second.id]  # the longest waiting first
    assert all(item["documents"] == DOCUMENTS and item["status"] == "pending" for item in items)
    assert answer.json()["next_cursor"] is None


def test_the_admin_queue_pages_through_every_state_including_walkers_who_never_submitted(
    api: MarketApi, state: Dependencies, admin: Caller
) -> None:
    for status in ("pending", "unverified"):
        expected = set()
        for _ in range(3):
            walker = _pending_walker(api, state) if status == "pending" else new_caller(state, "walker")
            if status == "unverified":
                put_profile(api, walker)
            expected.add(walker.id)
        seen: list[str] = []
        cursor = None
        for _ in range(5):
            path = f"/v1/admin/verifications?status={status}&limit=2" + (f"&cursor={cursor}" if cursor else "")
            answer = api.get(path, token=admin.token)
            assert answer.status == 200, answer.body
            seen += [item["walker_id"] for item in answer.json()["items"]]
            cursor = answer.json()["next_cursor"]
            if cursor is None:
                break

        assert cursor is None, f"{status}: the pages do not end"
        assert sorted(seen) == sorted(expected), status


def test_approving_verifies_the_walker_with_an_audit_row_and_one_event(
    api: MarketApi, state: Dependencies, admin: Caller, owner: Caller
) -> None:
    walker = _pending_walker(api, state)
    assert put_weekly(api, walker, [(2, "08:00", "12:00")]).status == 200
    dog = create_dog(api, owner)
    wednesday_search = (
        f"/v1/walkers/search?lat={PROFILE['service_area']['lat']}&lon={PROFILE['service_area']['lon']}"
        f"&start=2026-12-09T15:00:00Z&duration_min=60&dog_ids={dog['id']}"
    )
    assert api.get(wednesday_search, token=owner.token).json()["items"] == []

    answer = decide(api, admin, walker.id, "approve")

    assert answer.status == 200
    body = answer.json()
    assert body["walker_id"] == walker.id
    assert body["status"] == "verified"
    assert body["decided_by"] == admin.id
    assert _status(state, walker) == "verified"
    [audit] = _decisions(state)
    assert (str(audit["walker_id"]), str(audit["admin_id"]), audit["decision"]) == (walker.id, admin.id, "approve")
    assert audit["decided_at"] == datetime.fromisoformat(body["decided_at"])
    [event] = _events(state)
    assert str(event["recipient_id"]) == walker.id
    assert event["recipient_role"] == "walker"
    assert event["payload"]["status"] == "verified"
    assert event["published_at"] is None
    # verified walkers are public and found
    public = api.get(f"/v1/walkers/{walker.id}", token=owner.token)
    assert public.status == 200
    assert public.json()["verified"] is True
    assert [item["walker"]["id"] for item in api.get(wednesday_search, token=owner.token).json()["items"]] == [
        walker.id
    ]
    assert api.get("/v1/admin/verifications?status=pending", token=admin.token).json()["items"] == []


def test_rejecting_needs_a_reason(api: MarketApi, state: Dependencies, admin: Caller) -> None:
    walker = _pending_walker(api, state)

    for reason in (None, "", "   "):
        answer = decide(api, admin, walker.id, "reject", reason)
        assert_problem(answer, 422, "validation_error")

    assert _status(state, walker) == "pending"
    assert _decisions(state) == []
    assert _events(state) == []


def test_rejecting_with_a_reason_records_it_and_tells_the_walker(
    api: MarketApi, state: Dependencies, admin: Caller
) -> None:
    walker = _pending_walker(api, state)

    answer = decide(api, admin, walker.id, "reject", "The ID photo is blurred.")

    assert answer.status == 200
    assert answer.json()["status"] == "rejected"
    assert _status(state, walker) == "rejected"
    [audit] = _decisions(state)
    assert (audit["decision"], audit["reason"]) == ("reject", "The ID photo is blurred.")
    [event] = _events(state)
    assert event["payload"] == {"walker_id": walker.id, "status": "rejected", "reason": "The ID photo is blurred."}


def test_a_rejected_walker_may_submit_again_and_be_approved(api: MarketApi, state: Dependencies, admin: Caller) -> None:
    walker = _pending_walker(api, state)
    assert decide(api, admin, walker.id, "reject", "Blurred.").status == 200

    assert submit(api, walker).status == 202
    assert decide(api, admin, walker.id, "approve").status == 200

    assert [row["decision"] for row in _decisions(state)] == ["reject", "approve"]
    assert len(_events(state)) == 2


def test_deciding_a_walker_who_is_not_pending_is_a_409_and_writes_nothing(
    api: MarketApi, state: Dependencies, admin: Caller
) -> None:
    unverified = new_caller(state, "walker")
    put_profile(api, unverified)
    verified = _pending_walker(api, state)
    assert decide(api, admin, verified.id, "approve").status == 200

    assert_problem(decide(api, admin, unverified.id, "approve"), 409, "invalid_state")
    assert_problem(decide(api, admin, verified.id, "reject", "Changed my mind."), 409, "invalid_state")
    assert_problem(submit(api, verified), 409, "invalid_state")

    assert len(_decisions(state)) == 1
    assert len(_events(state)) == 1
    assert (_status(state, unverified), _status(state, verified)) == ("unverified", "verified")


def test_deciding_an_unknown_or_malformed_walker_id_is_a_404(
    api: MarketApi, state: Dependencies, admin: Caller
) -> None:
    owner = new_caller(state, "owner")  # a user, but not a walker
    for walker_id in ("00000000-0000-0000-0000-000000000000", "not-a-uuid", owner.id):
        assert_problem(decide(api, admin, walker_id, "approve"), 404, "not_found")


def test_owners_and_walkers_may_not_call_the_admin_endpoints(
    api: MarketApi, state: Dependencies, owner: Caller
) -> None:
    walker = _pending_walker(api, state)

    for caller in (owner, walker):
        assert_problem(api.get("/v1/admin/verifications?status=pending", token=caller.token), 403, "forbidden")
        assert_problem(decide(api, caller, walker.id, "approve"), 403, "forbidden")

    assert _status(state, walker) == "pending"


def test_the_audit_trail_refuses_update_and_delete(api: MarketApi, state: Dependencies, admin: Caller) -> None:
    walker = _pending_walker(api, state)
    assert decide(api, admin, walker.id, "approve").status == 200

    with psycopg.connect(state.database_url, autocommit=True) as conn:
        with pytest.raises(psycopg.errors.InsufficientPrivilege, match="append-only"):
            conn.execute("UPDATE verification_decisions SET decision = 'reject'")
        with pytest.raises(psycopg.errors.InsufficientPrivilege, match="append-only"):
            conn.execute("DELETE FROM verification_decisions")

    assert [row["decision"] for row in _decisions(state)] == ["approve"]


@pytest.fixture
def outbox_refuses_writes(state: Dependencies) -> Iterator[None]:
    """The outbox fails every insert (a trigger of the test's own), so a decision fails after its
    audit row and its status change were written."""
    with psycopg.connect(state.database_url, autocommit=True) as conn:
        conn.execute(
            "CREATE FUNCTION test_refuse_outbox() RETURNS trigger LANGUAGE plpgsql AS"
            " $$ BEGIN RAISE EXCEPTION 'outbox unavailable'; END $$"
        )
        conn.execute(
            "CREATE TRIGGER test_refuse_outbox BEFORE INSERT ON outbox"
            " FOR EACH ROW EXECUTE FUNCTION test_refuse_outbox()"
        )
    yield
    with psycopg.connect(state.database_url, autocommit=True) as conn:
        conn.execute("DROP TRIGGER test_refuse_outbox ON outbox")
        conn.execute("DROP FUNCTION test_refuse_outbox()")


def test_a_decision_that_fails_leaves_neither_audit_row_nor_event(
    api: MarketApi, state: Dependencies, admin: Caller, outbox_refuses_writes: None
) -> None:
    walker = _pending_walker(api, state)

    assert_problem(decide(api, admin, walker.id, "approve"), 500, "internal_error")

    assert _decisions(state) == []
    assert _status(state, walker) == "pending"
    assert rows(state.database_url, "SELECT 1 FROM outbox") == []
