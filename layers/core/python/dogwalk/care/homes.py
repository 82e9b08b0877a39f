"""The owner's home: the address and the vet as they are, and the access secrets (access
instructions, lockbox code, emergency contact) sealed by envelope encryption
(`dogwalk.adapters.envelope`) under the home-access key, bound to the owner's id. None of it is
ever logged: the functions here log nothing, and their errors name no field's value."""

from __future__ import annotations

import json
from typing import Any

from dogwalk.adapters import db, envelope
from dogwalk.config import settings
from dogwalk.errors import NotFound

# the fields sealed together, as one JSON document
SECRET_FIELDS = ("access_instructions", "lockbox_code", "emergency_contact")
_COLUMNS = "owner_id::text, address, vet_name, vet_phone, sealed, encrypted_data_key, key_id"


def context_of(owner_id: str) -> dict[str, str]:
    """The encryption context of an owner's home: KMS opens its data key under this one only."""
    return {"purpose": "home_access", "owner_id": owner_id}


def put(owner_id: str, home: dict[str, Any]) -> dict[str, Any]:
    """Write the owner's home (all of it, as PUT does); the home as stored."""
    secrets = json.dumps({name: home.get(name) for name in SECRET_FIELDS}, separators=(",", ":")).encode()
    sealed = envelope.seal(settings().home_access_key_id, secrets, context_of(owner_id))
    vet = home.get("vet") or {}
    with db.transaction() as conn:
        conn.execute(
            "INSERT INTO homes (owner_id, address, vet_name, vet_phone, sealed, encrypted_data_key, key_id)"
            " VALUES (%s, %s, %s, %s, %s, %s, %s)"
            " ON CONFLICT (owner_id) DO UPDATE SET address = excluded.address, vet_name = excluded.vet_name,"
            " vet_phone = excluded.vet_phone, sealed = excluded.sealed,"
            " encrypted_data_key = excluded.encrypted_data_key, key_id = excluded.key_id, updated_at = now()",
            (
                owner_id,
                home["address"],
                vet.get("name"),
                vet.get("phone"),
                sealed.ciphertext,
                sealed.encrypted_data_key,
                sealed.key_id,
            ),
        )
    return {name: home.get(name) for name in ("address", *SECRET_FIELDS, "vet")}


def get(owner_id: str) -> dict[str, Any]:
    """The owner's home, opened; NotFound until they put one."""
    with db.transaction() as conn:
        row = stored(conn, owner_id)
    if row is None:
        raise NotFound("You have not described your home yet.")
    return opened(row)


def stored(conn: db.Connection, owner_id: str) -> dict[str, Any] | None:
    """The owner's home row as stored (sealed), or None."""
    return conn.execute(f"SELECT {_COLUMNS} FROM homes WHERE owner_id = %s", (owner_id,)).fetchone()  # noqa: S608  # nosec B608


def opened(row: dict[str, Any]) -> dict[str, Any]:
    """A stored home with its secrets opened under its own owner's context (KMS is called)."""
    sealed = envelope.Sealed(bytes(row["sealed"]), bytes(row["encrypted_data_key"]), row["key_id"])
    secrets = json.loads(envelope.open_sealed(settings().home_access_key_id, sealed, context_of(row["owner_id"])))
    return {
        "address": row["address"],
        **{name: secrets.get(name) for name in SECRET_FIELDS},
        "vet": None if row["vet_name"] is None else {"name": row["vet_name"], "phone": row["vet_phone"]},
    }
