"""Owners' dogs. Another owner's dog is not found (no existence leaks); a dog with a future
accepted walk cannot be deleted; a deleted dog stays for the walks it had."""

from __future__ import annotations

import uuid
from typing import Any

from psycopg.types.json import Jsonb

from dogwalk.adapters import db
from dogwalk.adapters.pagination import Page, oldest_first
from dogwalk.errors import InvalidState, NotFound, require_id

SIZES = ("small", "medium", "large", "giant")
_COLUMNS = (
    "id::text, owner_id::text, name, breed, size, birth_date, notes, vaccinated, medical_notes, feeding,"
    " vaccinations, created_at, updated_at"
)
EDITABLE = ("name", "breed", "size", "birth_date", "notes", "vaccinated", "medical_notes", "feeding", "vaccinations")


def _stored(name: str, value: Any) -> Any:
    """A field as its column takes it: the vaccinations `[{kind, expires_on}]` as JSON."""
    if name == "vaccinations":
        return Jsonb([{"kind": item["kind"], "expires_on": item["expires_on"].isoformat()} for item in value or ()])
    return value


def create(owner_id: str, fields: dict[str, Any]) -> dict[str, Any]:
    with db.transaction() as conn:
        row = conn.execute(
            f"INSERT INTO dogs (id, owner_id, {', '.join(EDITABLE)})"  # noqa: S608  # nosec B608 - names from EDITABLE
            f" VALUES (%s, %s, {', '.join(['%s'] * len(EDITABLE))}) RETURNING {_COLUMNS}",
            (str(uuid.uuid4()), owner_id, *(_stored(name, fields.get(name)) for name in EDITABLE)),
        ).fetchone()
    if row is None:  # INSERT … RETURNING always returns its row
        raise RuntimeError("the dog was not written")
    return row


def get(owner_id: str, dog_id: str) -> dict[str, Any]:
    require_id(dog_id, "dog")
    with db.transaction() as conn:
        row = conn.execute(
            f"SELECT {_COLUMNS} FROM dogs WHERE id = %s AND owner_id = %s AND deleted_at IS NULL",  # noqa: S608  # nosec B608
            (dog_id, owner_id),
        ).fetchone()
    if row is None:
        raise NotFound("No such dog.")
    return row


def list_page(owner_id: str, limit: int, cursor: str | None) -> Page:
    query = f"SELECT {_COLUMNS} FROM dogs WHERE owner_id = %s AND deleted_at IS NULL"  # noqa: S608  # nosec B608
    return oldest_first(query, (owner_id,), limit, cursor)


def update(owner_id: str, dog_id: str, changes: dict[str, Any]) -> dict[str, Any]:
    if not changes:
        return get(owner_id, dog_id)
    require_id(dog_id, "dog")
    assignments = ", ".join(f"{name} = %s" for name in changes if name in EDITABLE)
    with db.transaction() as conn:
        row = conn.execute(
            f"UPDATE dogs SET {assignments}, updated_at = now()"  # noqa: S608  # nosec B608 - names from EDITABLE
            f" WHERE id = %s AND owner_id = %s AND deleted_at IS NULL RETURNING {_COLUMNS}",
            (*(_stored(name, changes[name]) for name in changes if name in EDITABLE), dog_id, owner_id),
        ).fetchone()
    if row is None:
        raise NotFound("No such dog.")
    return row


def delete(owner_id: str, dog_id: str) -> None:
    require_id(dog_id, "dog")
    with db.transaction() as conn:
        found = conn.execute(
            "SELECT 1 FROM dogs WHERE id = %s AND owner_id = %s AND deleted_at IS NULL FOR UPDATE", (dog_id, owner_id)
        ).fetchone()
        if found is None:
            raise NotFound("No such dog.")
        booked = conn.execute(
            "SELECT 1 FROM booking_dogs bd JOIN bookings b ON b.id = bd.booking_id"
            " WHERE bd.dog_id = %s AND b.status IN ('accepted', 'in_progress') AND b.end_ts > now() LIMIT 1",
            (dog_id,),
        ).fetchone()
        if booked:
            raise InvalidState("This dog has an accepted walk coming; cancel it first.")
        conn.execute("UPDATE dogs SET deleted_at = now() WHERE id = %s", (dog_id,))


def sizes_of(owner_id: str, dog_ids: list[str]) -> list[str]:
    """The sizes of the caller's dogs, in the order asked; `NotFound` if any is not theirs."""
    for dog_id in dog_ids:
        require_id(dog_id, "dog")
    with db.transaction() as conn:
        rows = conn.execute(
            "SELECT id::text, size FROM dogs WHERE id = ANY(%s::uuid[]) AND owner_id = %s AND deleted_at IS NULL",
            (dog_ids, owner_id),
        ).fetchall()
    sizes = {row["id"]: row["size"] for row in rows}
    if len(sizes) != len(set(dog_ids)):
        raise NotFound("No such dog.")
    return [sizes[dog_id] for dog_id in dog_ids]
